package dicom

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// SampleModule is the module whose testdata folder holds the six real DICOM
// files RadPass uses for demo data and tests (never copied into the repo).
const SampleModule = "github.com/suyashkumar/dicom"

// SampleFiles are the sample file names in that folder.
var SampleFiles = []string{"1.dcm", "2.dcm", "3.dcm", "4.dcm", "5.dcm", "6.dcm"}

// SampleDir finds the testdata folder of SampleModule in the module cache:
// `go list -m` first, then GOMODCACHE/GOPATH with the version this binary
// (or go.mod) pins.
func SampleDir() (string, error) {
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", SampleModule).Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); dir != "" {
			if ok := hasSamples(filepath.Join(dir, "testdata")); ok {
				return filepath.Join(dir, "testdata"), nil
			}
		}
	}
	version := "v1.1.0"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == SampleModule {
				version = d.Version
			}
		}
	}
	var roots []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		roots = append(roots, c)
	}
	if p := os.Getenv("GOPATH"); p != "" {
		roots = append(roots, filepath.Join(p, "pkg", "mod"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(h, "go", "pkg", "mod"))
	}
	for _, r := range roots {
		dir := filepath.Join(r, "github.com", "suyashkumar", "dicom@"+version, "testdata")
		if hasSamples(dir) {
			return dir, nil
		}
	}
	return "", errors.New("the testdata folder of " + SampleModule + " is not in the Go module cache (run `go mod download " + SampleModule + "`)")
}

func hasSamples(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, SampleFiles[0]))
	return err == nil
}
