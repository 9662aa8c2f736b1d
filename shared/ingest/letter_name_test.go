package ingest_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// A patient name with characters the
// letter font lacks (an emoji, CJK) is stored verbatim, because the staff
// pages show and search it as it is and the first import defines the
// demographics for good; the letter replaces what it cannot print instead of
// panicking in gofpdf.
func TestImportedNameTheLetterCannotPrint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _, im, _ := setup(t)
	const name = "Wang 王 😀^Zoë"
	b, err := dicom.Synth{StudyUID: "2.25.7101", SeriesUID: "2.25.7102", SOPUID: "2.25.7103", PatientID: "PAT-EMOJI",
		CharSet: "ISO_IR 192", PatientName: name,
		Rows: 2, Cols: 2, BitsAllocated: 8, Pixel: func(_, i, _ int) int { return i }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if r := im.Import(ctx, "e.dcm", bytes.NewReader(b)); r.Outcome != ingest.Added {
		t.Fatalf("import: %+v", r)
	}
	var p database.Patient
	if err := db.NewSelect().Model(&p).Where("patient_id = ?", "PAT-EMOJI").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if p.FamilyName != "Wang 王 😀" || p.GivenName != "Zoë" {
		t.Fatalf("stored name %q, %q: want it verbatim", p.FamilyName, p.GivenName)
	}

	n, err := refnum.New()
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := letter.Render(&letter.Letter{Lang: "en", Printed: time.Now(), PatientName: p.DisplayName(),
		Department: letter.Department{Name: "North"}, Ref: n, SignInURL: "https://radpass.example.org/",
		Verification: letter.VerifyDOB, ValidUntil: time.Now().AddDate(0, 1, 0)})
	if err != nil {
		t.Fatalf("letter of the imported patient: %v", err)
	}
	testtool.Need(t, "pdftotext")
	in := filepath.Join(t.TempDir(), "l.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "Wang � �, Zoë"; !strings.Contains(string(out), want) {
		t.Errorf("letter lacks %q\n%s", want, out)
	}
}
