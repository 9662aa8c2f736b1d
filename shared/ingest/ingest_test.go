package ingest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

func setup(t *testing.T) (*bun.DB, *storage.FS, *ingest.Importer, *database.Department) {
	t.Helper()
	db := testdb.New(t)
	st, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := mustDepartment(t, db, "NORTH")
	return db, st, &ingest.Importer{DB: db, Store: st, DepartmentID: d.ID, Workers: 4}, d
}

func samples(t *testing.T) string {
	t.Helper()
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// storedFiles counts blobs under the storage root (tmp excluded).
func storedFiles(t *testing.T, st *storage.FS) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(st.Root, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(st.Root, p)
		if err == nil && !d.IsDir() && !strings.HasPrefix(rel, "tmp"+string(filepath.Separator)) {
			n++
		}
		return nil
	})
	return n
}

// count is testdb.Count, short for the many row checks here.
var count = testdb.Count

func TestImportSamplesIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, d := setup(t)
	var calls int
	sum, err := im.ImportPaths(ctx, []string{samples(t)}, func(ingest.Progress) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	// The testdata folder also holds two .md files: rejected as not DICOM.
	if sum.Instances != 6 || sum.Already != 0 {
		t.Fatalf("first import: %+v", sum)
	}
	for _, r := range sum.Rejected {
		if !strings.HasSuffix(r.Name, ".md") {
			t.Errorf("rejected %s: %s", r.Name, r.Reason)
		}
	}
	if calls == 0 {
		t.Error("no progress reported")
	}
	studies := count(t, db, "studies")
	if sum.Studies != studies || sum.Series != count(t, db, "series") || count(t, db, "instances") != 6 {
		t.Fatalf("summary %+v vs %d studies in the database", sum, studies)
	}
	files := storedFiles(t, st)
	if files != 6 {
		t.Fatalf("%d stored files, want 6", files)
	}
	// Metadata landed: the multi-frame CT and the X-ray.
	var ct database.Instance
	if err := db.NewSelect().Model(&ct).Where("frames = 2").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if ct.Rows != 512 || ct.Columns != 512 || ct.BitsAllocated != 16 || ct.TransferSyntax != "1.2.840.10008.1.2.1" || !storage.ValidKey(ct.StorageKey) {
		t.Fatalf("CT instance %+v", ct)
	}
	var cr database.Instance
	if err := db.NewSelect().Model(&cr).Where("photometric = 'MONOCHROME1'").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if cr.WindowCenter != "511" || cr.WindowWidth != "1023" || cr.BitsStored != 10 {
		t.Fatalf("CR instance %+v", cr)
	}
	var s database.Study
	if err := db.NewSelect().Model(&s).Where("study_uid = (SELECT st.study_uid FROM studies st JOIN series se ON se.study_id = st.id WHERE se.modality = 'CT' LIMIT 1)").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if s.DepartmentID != d.ID || s.NumInstances != 1 || s.NumSeries != 1 || len(s.Modalities) != 1 || s.Modalities[0] != "CT" {
		t.Fatalf("CT study %+v", s)
	}
	var p database.Patient
	if err := db.NewSelect().Model(&p).Where("id = ?", s.PatientID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if p.FamilyName != "Perfusion" || p.GivenName != "MCA Stroke" {
		t.Fatalf("CT patient %+v", p)
	}

	// Again: nothing new, nothing stored twice.
	again, err := im.ImportPaths(ctx, []string{samples(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Instances != 0 || again.Already != 6 || again.Studies != 0 {
		t.Fatalf("second import: %+v", again)
	}
	if count(t, db, "instances") != 6 || storedFiles(t, st) != files {
		t.Fatal("re-import stored something")
	}
}

func TestBrokenFilesRejectedRestStays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, _ := setup(t)
	src := samples(t)
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(src, "3.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 4096)
	_, _ = rand.Read(junk)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "a-good.dcm"), good, 0o600))
	must(os.WriteFile(filepath.Join(dir, "b-truncated.dcm"), good[:len(good)/2], 0o600))
	must(os.WriteFile(filepath.Join(dir, "c-random.dcm"), junk, 0o600))
	must(os.WriteFile(filepath.Join(dir, "DICOMDIR"), []byte("index"), 0o600))
	// A zip in a sub-folder with one good file (the PET) and one broken one.
	must(os.MkdirAll(filepath.Join(dir, "sub"), 0o700))
	zf, err := os.Create(filepath.Join(dir, "sub", "batch.zip"))
	must(err)
	zw := zip.NewWriter(zf)
	pet, _ := os.ReadFile(filepath.Join(src, "1.dcm"))
	w, _ := zw.Create("IMG/1.dcm")
	_, _ = w.Write(pet)
	w, _ = zw.Create("IMG/broken.dcm")
	_, _ = w.Write(junk[:100])
	must(zw.Close())
	must(zf.Close())

	sum, err := im.ImportPaths(ctx, []string{dir, filepath.Join(dir, "missing.dcm")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Instances != 2 || sum.Skipped != 1 {
		t.Fatalf("summary %+v", sum)
	}
	want := map[string]string{"b-truncated.dcm": "not a DICOM", "c-random.dcm": "not a DICOM", "batch.zip:IMG/broken.dcm": "not a DICOM", "missing.dcm": "cannot read"}
	if len(sum.Rejected) != len(want) {
		t.Fatalf("rejected %+v", sum.Rejected)
	}
	for _, r := range sum.Rejected {
		ok := false
		for suffix, reason := range want {
			if strings.HasSuffix(r.Name, suffix) && strings.Contains(r.Reason, reason) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("unexpected rejection %s: %s", r.Name, r.Reason)
		}
	}
	// Only the two good files are stored: rejected ones were cleaned up.
	if n := storedFiles(t, st); n != 2 || count(t, db, "instances") != 2 {
		t.Fatalf("%d files, %d instances stored", n, count(t, db, "instances"))
	}
}

// UIDs are a namespace per department: what another department holds is
// neither a conflict nor visible. The same study pushed by two departments
// is stored for each, the identical file once.
func TestUIDsArePerDepartment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, d := setup(t)
	raw, err := os.ReadFile(filepath.Join(samples(t), "3.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	first := im.Import(ctx, "3.dcm", bytes.NewReader(raw))
	if first.Outcome != ingest.Added {
		t.Fatalf("first: %+v", first)
	}
	south := mustDepartment(t, db, "SOUTH")
	other := &ingest.Importer{DB: db, Store: st, DepartmentID: south.ID}
	// The very same instance from another department: stored for it, as if
	// nobody had it.
	r := other.Import(ctx, "3.dcm", bytes.NewReader(raw))
	if r.Outcome != ingest.Added || !r.NewStudy || !r.NewSeries || r.StudyID == first.StudyID {
		t.Fatalf("same instance, other department: %+v", r)
	}
	// Again: already present, for that department only.
	if r := other.Import(ctx, "3.dcm", bytes.NewReader(raw)); r.Outcome != ingest.AlreadyPresent {
		t.Fatalf("second push by the other department: %+v", r)
	}
	// A different instance of the same study UID, another patient: fine in
	// SOUTH (its study), while in NORTH it names the study of another patient.
	b, _ := dicom.Synth{StudyUID: first.StudyUID, SeriesUID: "1.2.3.9", SOPUID: "1.2.3.9.1", PatientID: "Z", Rows: 2, Cols: 2, BitsAllocated: 8,
		Pixel: func(_, i, _ int) int { return i }}.Bytes()
	if r := im.Import(ctx, "x.dcm", bytes.NewReader(b)); r.Outcome != ingest.Rejected || r.Code != ingest.ReasonMismatch {
		t.Fatalf("another patient in the own department: %+v", r)
	}
	third := &ingest.Importer{DB: db, Store: st, DepartmentID: mustDepartment(t, db, "WEST").ID}
	if r := third.Import(ctx, "x.dcm", bytes.NewReader(b)); r.Outcome != ingest.Added {
		t.Fatalf("study UID of other departments: %+v", r)
	}
	perDept := func(dept int64) int {
		n, err := db.NewSelect().TableExpr("instances i").Join("JOIN series se ON se.id = i.series_id").
			Join("JOIN studies s ON s.id = se.study_id").Where("s.department_id = ?", dept).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if perDept(d.ID) != 1 || perDept(south.ID) != 1 || perDept(third.DepartmentID) != 1 {
		t.Fatalf("instances per department %d/%d/%d", perDept(d.ID), perDept(south.ID), perDept(third.DepartmentID))
	}
	if n := storedFiles(t, st); n != 2 {
		t.Fatalf("%d files stored, want 2 (the shared 3.dcm and x.dcm)", n)
	}
	// WithStudy refuses an instance of another study.
	f, _ := os.Open(filepath.Join(samples(t), "6.dcm"))
	defer f.Close()
	if r := im.Import(ctx, "6.dcm", f, ingest.WithStudy("1.2.3")); r.Outcome != ingest.Rejected || r.Code != ingest.ReasonMismatch {
		t.Fatalf("study mismatch: %+v", r)
	}
}

// Two departments pushing the same instance at once both store it; within a
// department it is stored once (the advisory lock per department and UID).
func TestConcurrentSameInstanceTwoDepartments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, _ := setup(t)
	south := &ingest.Importer{DB: db, Store: st, DepartmentID: mustDepartment(t, db, "SOUTH").ID}
	raw, err := os.ReadFile(filepath.Join(samples(t), "4.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]ingest.Result, 16)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := im
			if i%2 == 1 {
				who = south
			}
			results[i] = who.Import(ctx, "4.dcm", bytes.NewReader(raw))
		}()
	}
	wg.Wait()
	added := 0
	for _, r := range results {
		switch r.Outcome {
		case ingest.Added:
			added++
		case ingest.AlreadyPresent:
		default:
			t.Fatalf("parallel push: %+v", r)
		}
	}
	if added != 2 || count(t, db, "instances") != 2 || count(t, db, "studies") != 2 || storedFiles(t, st) != 1 {
		t.Fatalf("%d added, %d instances, %d studies, %d files", added, count(t, db, "instances"), count(t, db, "studies"), storedFiles(t, st))
	}
}

func mustStudyUID(t *testing.T, db bun.IDB) string {
	t.Helper()
	var uid string
	if err := db.NewSelect().Table("studies").Column("study_uid").Limit(1).Scan(context.Background(), &uid); err != nil {
		t.Fatal(err)
	}
	return uid
}

// Parallel imports of the same instance store it once.
func TestConcurrentSameInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, _ := setup(t)
	data, err := os.ReadFile(filepath.Join(samples(t), "2.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]ingest.Result, 6)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = im.Import(ctx, "2.dcm", strings.NewReader(string(data)))
		}(i)
	}
	wg.Wait()
	added := 0
	for _, r := range results {
		switch r.Outcome {
		case ingest.Added:
			added++
		case ingest.Rejected:
			t.Errorf("rejected: %+v", r)
		}
	}
	if added != 1 || count(t, db, "instances") != 1 || storedFiles(t, st) != 1 {
		t.Fatalf("added %d, %d instances, %d files", added, count(t, db, "instances"), storedFiles(t, st))
	}
}

func TestAttachReport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, d := setup(t)
	f, _ := os.Open(filepath.Join(samples(t), "3.dcm"))
	r := im.Import(ctx, "3.dcm", f)
	f.Close()
	at := time.Date(2030, 1, 2, 8, 0, 0, 0, time.UTC)
	s, err := ingest.AttachReport(ctx, db, st, d.ID, r.StudyUID, ingest.Report{Text: "No abnormality. Ça va, Müller.", Status: "preliminary", AvailableAt: &at})
	if err != nil {
		t.Fatal(err)
	}
	var got database.Study
	if err := db.NewSelect().Model(&got).Where("id = ?", s.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got.ReportStatus != "preliminary" || got.ReportText != "No abnormality. Ça va, Müller." || got.ReportAvailableAt == nil || !got.ReportAvailableAt.Equal(at) {
		t.Fatalf("study %+v", got)
	}
	pdf := "%PDF-1.4\n% test\n"
	if _, err := ingest.AttachReport(ctx, db, st, d.ID, r.StudyUID, ingest.Report{PDF: strings.NewReader(pdf), Status: "final"}); err != nil {
		t.Fatal(err)
	}
	got = database.Study{}
	if err := db.NewSelect().Model(&got).Where("id = ?", s.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got.ReportStatus != "final" || got.ReportText != "" || !storage.ValidKey(got.ReportPDFKey) || got.ReportAvailableAt != nil {
		t.Fatalf("after PDF: %+v", got)
	}
	south := mustDepartment(t, db, "SOUTH")
	tests := []struct {
		name string
		dept int64
		uid  string
		rep  ingest.Report
		want error
	}{
		{"bad status", d.ID, r.StudyUID, ingest.Report{Text: "x", Status: "draft"}, ingest.ErrReportStatus},
		{"empty", d.ID, r.StudyUID, ingest.Report{Text: "  ", Status: "final"}, ingest.ErrReportEmpty},
		{"not a pdf", d.ID, r.StudyUID, ingest.Report{PDF: strings.NewReader("hello"), Status: "final"}, ingest.ErrReportPDF},
		{"bad utf-8", d.ID, r.StudyUID, ingest.Report{Text: "caf\xe9", Status: "final"}, ingest.ErrReportText},
		{"other department", south.ID, r.StudyUID, ingest.Report{Text: "x", Status: "final"}, ingest.ErrNotFound},
		{"unknown study", d.ID, "1.2.3.4", ingest.Report{Text: "x", Status: "final"}, ingest.ErrNotFound},
	}
	for _, tc := range tests {
		if _, err := ingest.AttachReport(ctx, db, st, tc.dept, tc.uid, tc.rep); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Nothing of the refused uploads changed the stored report.
	if err := db.NewSelect().Model(&got).Where("id = ?", s.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got.ReportStatus != "final" {
		t.Fatalf("report changed by a refused upload: %+v", got)
	}
}

// mustDepartment is local so this package's tests do not build the whole server.
func mustDepartment(t *testing.T, db bun.IDB, code string) *database.Department {
	t.Helper()
	d := &database.Department{Code: code, Name: "Radiology " + code, DefaultValidityN: 1, DefaultValidityUnit: "month"}
	if _, err := db.NewInsert().Model(d).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}
