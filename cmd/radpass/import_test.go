package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func sampleFolder(t *testing.T) string {
	t.Helper()
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The import summary and exit codes, as an operator sees them.
func TestImportSummaryAndExitCodes(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	testserver.MustDepartment(t, db, "NORTH")
	env := map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey, "RADPASS_DATA_DIR": t.TempDir()}
	src := sampleFolder(t)
	var files []string
	for _, n := range dicom.SampleFiles {
		files = append(files, filepath.Join(src, n))
	}
	r := radpass(t, env, "", append([]string{"import", "--department", "NORTH"}, files...)...)
	if r.code != 0 {
		t.Fatalf("import: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{`instances added:\s+6`, `already present:\s+0`, `rejected:\s+0`, `studies added:\s+\d`, `MB/s`} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	// Again, plus a broken file: the six are already present, the broken one
	// is rejected with its reason, exit code 1.
	bad := filepath.Join(t.TempDir(), "broken.dcm")
	if err := os.WriteFile(bad, []byte("DICM? no."), 0o600); err != nil {
		t.Fatal(err)
	}
	r = radpass(t, env, "", append([]string{"import", "--department", "NORTH", bad}, files...)...)
	if r.code != 1 {
		t.Fatalf("import with a broken file: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{`instances added:\s+0`, `already present:\s+6`, `rejected:\s+1`, `rejected .*broken.dcm: not a DICOM file`} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "1 file(s) rejected") {
		t.Errorf("stderr %q", r.stderr)
	}
	n, err := db.NewSelect().Table("instances").Count(context.Background())
	if err != nil || n != 6 {
		t.Fatalf("%d instances, %v", n, err)
	}
	// Usage errors exit 2.
	if r := radpass(t, env, "", "import", "--department", "NOPE", files[0]); r.code != 2 {
		t.Fatalf("unknown department: %d %q", r.code, r.stderr)
	}
	if r := radpass(t, env, "", "import", files[0]); r.code != 2 {
		t.Fatalf("no department: %d %q", r.code, r.stderr)
	}
}

// Token add prints a token once and stores only its hash; token list names
// it without showing it. Report add stores a report with its embargo, and
// refuses an unknown study (exit code 1) and a bad status (exit code 2).
func TestTokenAndReportCommands(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	testserver.MustDepartment(t, db, "NORTH")
	env := map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey, "RADPASS_DATA_DIR": t.TempDir()}
	r := radpass(t, env, "", "token", "add", "--department", "NORTH", "--name", "orthanc")
	tok := regexp.MustCompile(`rpt_[A-Za-z0-9_-]{43}`).FindString(r.stdout)
	if r.code != 0 || tok == "" {
		t.Fatalf("token add: %d %q %q", r.code, r.stdout, r.stderr)
	}
	var stored [][]byte
	if err := db.NewSelect().Table("api_tokens").Column("token_hash").Scan(context.Background(), &stored); err != nil || len(stored) != 1 {
		t.Fatalf("tokens: %v %d", err, len(stored))
	}
	if strings.Contains(string(stored[0]), tok) {
		t.Fatal("token stored in plaintext")
	}
	if r := radpass(t, env, "", "token", "list", "--department", "NORTH"); r.code != 0 || !strings.Contains(r.stdout, "orthanc") || strings.Contains(r.stdout, tok) {
		t.Fatalf("token list: %d %q", r.code, r.stdout)
	}

	if r := radpass(t, env, "", "import", "--department", "NORTH", filepath.Join(sampleFolder(t), "3.dcm")); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	var uid string
	if err := db.NewSelect().Table("studies").Column("study_uid").Scan(context.Background(), &uid); err != nil {
		t.Fatal(err)
	}
	txt := filepath.Join(t.TempDir(), "report.txt")
	if err := os.WriteFile(txt, []byte("Befund: unauffällig."), 0o600); err != nil {
		t.Fatal(err)
	}
	r = radpass(t, env, "", "report", "add", "--department", "NORTH", "--study", uid, "--status", "final", "--available-at", "2032-01-01", txt)
	if r.code != 0 || !strings.Contains(r.stdout, "2032-01-01") {
		t.Fatalf("report add: %d %q %q", r.code, r.stdout, r.stderr)
	}
	var s database.Study
	if err := db.NewSelect().Model(&s).Where("study_uid = ?", uid).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.ReportText != "Befund: unauffällig." || s.ReportStatus != "final" || s.ReportAvailableAt == nil {
		t.Fatalf("study %+v", s)
	}
	if r := radpass(t, env, "", "report", "add", "--department", "NORTH", "--study", "1.2.3", "--status", "final", txt); r.code != 1 {
		t.Fatalf("unknown study: %d %q", r.code, r.stderr)
	}
	if r := radpass(t, env, "", "report", "add", "--department", "NORTH", "--study", uid, "--status", "draft", txt); r.code != 2 {
		t.Fatalf("bad status: %d %q", r.code, r.stderr)
	}
}
