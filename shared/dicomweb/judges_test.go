package dicomweb_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testtool"
)

// dciodvfyFindings are dciodvfy's Error lines for a file, and its Warning
// lines when warnings is set, with the file's own values (which differ
// between an original and its de-identified copy) left out.
func dciodvfyFindings(t *testing.T, path string, warnings bool) []string {
	t.Helper()
	out, _ := exec.Command("dciodvfy", "-new", path).CombinedOutput() // exits non-zero on findings: judged by its lines
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Error") || (warnings && strings.HasPrefix(l, "Warning")) {
			lines = append(lines, valueRe.ReplaceAllString(strings.TrimSpace(l), ""))
		}
	}
	sort.Strings(lines)
	return lines
}

var valueRe = regexp.MustCompile(` = <[^>]*>$`)

// passTheJudges checks the de-identified instances an anonymized access's
// link served (got) with the judges: dcmftest (Part 10), dcmdump (parses
// without error or warning), dcmmkdir (a DICOMDIR of them all, General
// Purpose profile, nothing invented), and dciodvfy finds no error or
// warning in them that it does not find in the imported originals.
func passTheJudges(t *testing.T, f *linkFixture, got [][]byte) {
	t.Helper()
	testtool.Need(t, "dciodvfy", "dcmftest", "dcmdump", "dcmmkdir")
	dir := t.TempDir()
	served := filepath.Join(dir, "DICOM")
	if err := os.Mkdir(served, 0o755); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, b := range got {
		p := filepath.Join(served, fmt.Sprintf("IM%06d", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if out, err := exec.Command("dcmftest", paths...).CombinedOutput(); err != nil || strings.Count(string(out), "yes:") != len(paths) {
		t.Fatalf("dcmftest: %v\n%s", err, out)
	}
	for _, p := range paths {
		if stderr, err := dcmdump(p); err != nil || stderr != "" {
			t.Fatalf("dcmdump %s: %v\n%s", filepath.Base(p), err, stderr)
		}
	}
	if out, err := exec.Command("dcmmkdir", "-q", "-Pgp", "+D", filepath.Join(dir, "DICOMDIR"), "+r", "+id", dir, "DICOM").CombinedOutput(); err != nil {
		t.Fatalf("dcmmkdir: %v\n%s", err, out)
	}
	// dciodvfy: nothing the originals do not have already.
	orig := t.TempDir()
	before := map[string]bool{}
	i := 0
	for _, b := range f.files {
		p := filepath.Join(orig, fmt.Sprintf("o%d.dcm", i))
		i++
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, l := range dciodvfyFindings(t, p, true) {
			before[l] = true
		}
	}
	for _, p := range paths {
		for _, l := range dciodvfyFindings(t, p, true) {
			if !before[l] {
				out, _ := exec.Command("dciodvfy", "-new", p).CombinedOutput()
				t.Errorf("dciodvfy on the served %s: %s\n%s", filepath.Base(p), l, out)
			}
		}
	}
}

// dcmdump parses path with dcmdump (stopping on an error) and returns what
// it writes to stderr (its errors and warnings).
func dcmdump(path string) (string, error) {
	cmd := exec.Command("dcmdump", "-q", "-E", path)
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	return strings.TrimSpace(errb.String()), err
}
