package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
)

// A replaced report PDF is removed from storage once no study names it
// (no orphan piles up on disk); a file another study names too stays.
func TestReplacedReportPDFRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, d := setup(t)
	var uids []string
	for _, name := range []string{"3.dcm", "4.dcm"} {
		f, _ := os.Open(filepath.Join(samples(t), name))
		r := im.Import(ctx, name, f)
		f.Close()
		if r.Outcome != ingest.Added {
			t.Fatalf("%s: %+v", name, r)
		}
		uids = append(uids, r.StudyUID)
	}
	pdf := func(s string) ingest.Report {
		return ingest.Report{PDF: strings.NewReader("%PDF-1.4\n% " + s + "\n"), Status: "final"}
	}
	attach := func(uid string, rep ingest.Report) string {
		t.Helper()
		s, err := ingest.AttachReport(ctx, db, st, d.ID, uid, rep)
		if err != nil {
			t.Fatal(err)
		}
		return s.ReportPDFKey
	}
	exists := func(key string) bool {
		b, err := st.Open(ctx, key)
		if err == nil {
			b.Close()
			return true
		}
		if !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		return false
	}
	k1 := attach(uids[0], pdf("one"))
	k2 := attach(uids[0], pdf("two"))
	if !exists(k2) || exists(k1) {
		t.Fatalf("after replacing: old file there %v, new file there %v", exists(k1), exists(k2))
	}
	// The same PDF on both studies: replacing it on one keeps the file.
	attach(uids[1], pdf("two"))
	k3 := attach(uids[0], pdf("three"))
	if !exists(k2) || !exists(k3) {
		t.Fatal("a file the other study still names was removed")
	}
	// A text report replaces the PDF: its file goes.
	if k := attach(uids[0], ingest.Report{Text: "Normal.", Status: "final"}); k != "" || exists(k3) {
		t.Fatalf("after a text report: key %q, old file there %v", k, exists(k3))
	}
	// The same PDF again on the same study: nothing removed.
	k4 := attach(uids[1], pdf("two"))
	if k4 != k2 || !exists(k2) {
		t.Fatal("re-sending the same PDF removed it")
	}
	if n := storedFiles(t, st); n != 3 { // two DICOM files and the PDF of study 2
		t.Fatalf("%d files stored, want 3", n)
	}
}

// Parallel replacements of one study's report leave exactly the last PDF.
func TestConcurrentReportReplacements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, d := setup(t)
	f, _ := os.Open(filepath.Join(samples(t), "3.dcm"))
	r := im.Import(ctx, "3.dcm", f)
	f.Close()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep := ingest.Report{PDF: strings.NewReader("%PDF-1.4\n% version " + string(rune('a'+i)) + "\n"), Status: "final"}
			if _, err := ingest.AttachReport(ctx, db, st, d.ID, r.StudyUID, rep); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var s database.Study
	if err := db.NewSelect().Model(&s).Where("id = ?", r.StudyID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := st.Open(ctx, s.ReportPDFKey)
	if err != nil {
		t.Fatalf("the report's file: %v", err)
	}
	b.Close()
	if n := storedFiles(t, st); n != 2 {
		t.Fatalf("%d files stored after 16 replacements, want 2 (the DICOM file and the last PDF)", n)
	}
}

// The housekeeping sweep removes old files no row names and keeps the rest:
// referenced files, and young files whose row may be on its way.
// Both backends: the local folder and an S3 bucket (versitygw).
func TestSweepOrphans(t *testing.T) {
	t.Parallel()
	eachStore(t, testSweepOrphans)
}

func testSweepOrphans(t *testing.T, db *bun.DB, st storage.Lister, im *ingest.Importer, d *database.Department, ageKey func(key string, at time.Time)) {
	ctx := context.Background()
	f, _ := os.Open(filepath.Join(samples(t), "3.dcm"))
	r := im.Import(ctx, "3.dcm", f)
	f.Close()
	s, err := ingest.AttachReport(ctx, db, st, d.ID, r.StudyUID, ingest.Report{PDF: strings.NewReader("%PDF-1.4\n% kept\n"), Status: "final"})
	if err != nil {
		t.Fatal(err)
	}
	put := func(content string) string {
		key, _, _, err := st.Put(ctx, strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	old := time.Now().Add(-48 * time.Hour)
	age := func(key string) { ageKey(key, old) }
	orphan, young := put("%PDF-1.4\n% orphan\n"), put("%PDF-1.4\n% young\n")
	age(orphan)
	var inst string
	if err := db.NewSelect().Table("instances").Column("storage_key").Scan(ctx, &inst); err != nil {
		t.Fatal(err)
	}
	age(inst)
	age(s.ReportPDFKey)
	n, err := ingest.SweepOrphans(ctx, db, st, ingest.OrphanGrace)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("sweep removed %d files, want 1", n)
	}
	for key, want := range map[string]bool{orphan: false, young: true, inst: true, s.ReportPDFKey: true} {
		_, err := st.ModTime(ctx, key)
		if got := err == nil; got != want {
			t.Errorf("file %s… there: %v, want %v", key[:8], got, want)
		}
	}
	// Putting an old orphan again makes it young: the sweep leaves it for
	// the row about to be written.
	again := put("%PDF-1.4\n% again\n")
	age(again)
	put("%PDF-1.4\n% again\n")
	if n, err := ingest.SweepOrphans(ctx, db, st, ingest.OrphanGrace); err != nil || n != 0 {
		t.Fatalf("sweep after a repeated put: %d, %v", n, err)
	}
}

// A source that breaks off (a truncated upload) is the sender's fault:
// rejected as invalid, nothing stored, no server error.
func TestTruncatedSourceIsInvalid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, _ := setup(t)
	raw, err := os.ReadFile(filepath.Join(samples(t), "3.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	src := io.MultiReader(bytes.NewReader(raw[:len(raw)/2]), errReader{io.ErrUnexpectedEOF})
	r := im.Import(ctx, "cut.dcm", src)
	if r.Outcome != ingest.Rejected || r.Code != ingest.ReasonInvalid || !errors.Is(r.Err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated source: %+v", r)
	}
	if count(t, db, "instances") != 0 || storedFiles(t, st) != 0 {
		t.Fatal("something of the truncated source was stored")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
