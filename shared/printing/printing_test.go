package printing_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/printing"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

func bucket(anonymized bool) (*database.Bucket, []*database.Study) {
	birth := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	b := &database.Bucket{ID: 1, DepartmentID: 1, Department: &database.Department{ID: 1, Name: "Radiology North"},
		Patient: &database.Patient{GivenName: "Zoë", FamilyName: "Peeters", BirthDate: &birth}, Anonymized: anonymized,
		Verification: database.VerifyDOB, Scope: database.ScopeImages, ValidUntil: day.AddDate(0, 1, 0), Language: "en"}
	return b, []*database.Study{{StudyDate: &day, Description: "CT thorax", Modalities: []string{"CT", "SR"}}}
}

// A letter names patient and studies, an anonymized one neither.
func TestFor(t *testing.T) {
	b, studies := bucket(false)
	l := printing.For(b, studies, "nl", time.Now(), "https://radpass.example.org/", refnum.Number{}, nil)
	if l.PatientName != "Peeters, Zoë" || l.BirthDate.IsZero() || len(l.Exams) != 1 || l.Exams[0].Modality != "CT, SR" || l.Lang != "nl" {
		t.Fatalf("letter %+v", l)
	}
	b.Anonymized = true
	if l := printing.For(b, studies, "nl", time.Now(), "", refnum.Number{}, nil); l.PatientName != "" || !l.BirthDate.IsZero() || l.Exams != nil {
		t.Fatalf("anonymized letter names the patient: %+v", l)
	}
}

// The letter a print kept is served once, in its language; after that, and
// in another language, a new one is rendered with the department's logo,
// and a logo that is no image fails the render.
func TestPrinterLetter(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	var dept int64
	if err := db.QueryRowContext(ctx, `INSERT INTO departments (code, name) VALUES ('NORTH', 'Radiology North') RETURNING id`).Scan(&dept); err != nil {
		t.Fatal(err)
	}
	p := &printing.Printer{DB: db, SignInURL: "https://radpass.example.org/"}
	b, studies := bucket(false)
	b.DepartmentID = dept
	n, err := refnum.New()
	if err != nil {
		t.Fatal(err)
	}
	p.Keep(b.ID, "en", []byte("kept"))
	if pdf, err := p.Letter(ctx, b, studies, "en", n); err != nil || string(pdf) != "kept" || p.Renders() != 0 {
		t.Fatalf("kept letter: %q %v, %d renders", pdf, err, p.Renders())
	}
	for _, lang := range []string{"en", "fr"} {
		pdf, err := p.Letter(ctx, b, studies, lang, n)
		if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("%s: %.20q %v", lang, pdf, err)
		}
	}
	if p.Renders() != 2 {
		t.Fatalf("%d renders, want 2", p.Renders())
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO department_logos (department_id, png, width, height) VALUES (?, 'not an image', 1, 1)`, dept); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Render(ctx, b, studies, "en", n); !errors.Is(err, letter.ErrLogo) {
		t.Fatalf("render with a broken logo: %v", err)
	}
}

// "Printed on" is a date of the department's calendar (the zone of the
// validity dates), not of the server's: 23:30 UTC on 1 January is already
// 2 January in Auckland.
func TestPrintedOnIsTheZonesDate(t *testing.T) {
	pdftotext := testtool.Path(t, "pdftotext")
	ctx := context.Background()
	db := testdb.New(t)
	var dept int64
	if err := db.QueryRowContext(ctx, `INSERT INTO departments (code, name) VALUES ('NORTH', 'Radiology North') RETURNING id`).Scan(&dept); err != nil {
		t.Fatal(err)
	}
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 23, 30, 0, 0, time.UTC)
	b, studies := bucket(false)
	b.DepartmentID = dept
	n, err := refnum.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		zone *time.Location
		want string
	}{{time.UTC, "1 January 2026"}, {auckland, "2 January 2026"}} {
		p := &printing.Printer{DB: db, Now: func() time.Time { return at }, Zone: tc.zone}
		pdf, err := p.Render(ctx, b, studies, "en", n)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "letter.pdf")
		if err := os.WriteFile(path, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Fatalf("%s: letter does not say %q:\n%s", tc.zone, tc.want, out)
		}
	}
}
