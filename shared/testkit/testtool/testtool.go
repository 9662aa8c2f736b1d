// Package testtool finds the external programs tests use as judges (dcmtk,
// dicom3tools, poppler-utils, Info-ZIP). A missing program fails the test
// (scripts/deps.sh test installs them all); under `go test -short` (make
// check) the test is skipped instead, so the quick tier needs no tools.
package testtool

import (
	"os/exec"
	"testing"
)

// Need returns the path of each named program, in order. It skips the test
// under -short and fails it when a program is not installed.
func Need(tb testing.TB, names ...string) []string {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("needs %v; skipped under -short", names)
	}
	paths := make([]string, len(names))
	for i, n := range names {
		p, err := exec.LookPath(n)
		if err != nil {
			tb.Fatalf("%s is not installed (scripts/deps.sh test installs it): %v", n, err)
		}
		paths[i] = p
	}
	return paths
}

// Path is Need for one program.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	return Need(tb, name)[0]
}
