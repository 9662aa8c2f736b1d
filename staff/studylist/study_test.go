package studylist_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// dicomFixture imports the sample files into dept through the server's own
// storage folder and returns the study id of the multi-frame CT (5.dcm).
func dicomFixture(t *testing.T, srv *testserver.Server, dept *database.Department) (ctStudy int64) {
	t.Helper()
	return srv.MustImportSamples(t, dept)
}

func instanceOf(t *testing.T, srv *testserver.Server, studyID int64) int64 {
	t.Helper()
	var id int64
	if err := srv.DB.NewRaw(`SELECT i.id FROM instances i JOIN series se ON se.id = i.series_id WHERE se.study_id = ? LIMIT 1`, studyID).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestStudyDetailAndImages(t *testing.T) {
	srv := testserver.New(t)
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, north)
	// Parallel only after MustUser: its lazily set password hash is not
	// synchronised (shared/testkit/testserver), so it must be first written sequentially.
	t.Parallel()
	ct := dicomFixture(t, srv, north)
	inst := instanceOf(t, srv, ct)
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)

	page := fmt.Sprintf("/staff/studies/%d", ct)
	res, body := c.Get(page)
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("study page: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	doc := testserver.Doc(t, body)
	if got := doc.Find(`[data-testid="modalities"]`).Text(); got != "CT" {
		t.Fatalf("modalities %q", got)
	}
	if doc.Find(`[data-testid="thumb"]`).Length() != 1 {
		t.Fatal("no series thumbnail")
	}
	if got := doc.Find(`[data-testid="frame"]`).Text(); !strings.Contains(got, "1") || !strings.Contains(got, "2") {
		t.Fatalf("frame counter %q", got)
	}
	next, ok := doc.Find(`[data-viewer-nextframe]`).Attr("href")
	if !ok {
		t.Fatal("no next-frame link")
	}
	src, _ := doc.Find(`[data-testid="image"]`).Attr("src")
	if src == "" {
		t.Fatal("no image in the viewer")
	}
	// The next-frame link shows frame 2 and asks for f=1.
	doc = c.GetDoc(next, http.StatusOK)
	src2, _ := doc.Find(`[data-testid="image"]`).Attr("src")
	if !strings.Contains(src2, "f=1") {
		t.Fatalf("frame 2 image URL %q", src2)
	}

	// The rendered image: JPEG, never stored by the browser, with an ETag that revalidates.
	res, img := c.Get(src)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("image: %d %v", res.StatusCode, res.Header)
	}
	if cfg, _, err := image.DecodeConfig(strings.NewReader(img)); err != nil || cfg.Width != 512 {
		t.Fatalf("image decode: %v %+v", err, cfg)
	}
	etag := res.Header.Get("ETag")
	if res, _ := c.Get(src, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", res.StatusCode)
	}
	// Thumbnail size, PNG, presets.
	res, th := c.Get(fmt.Sprintf("/staff/images/%d?size=64&fmt=png&w=lung", inst))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("png thumbnail: %d", res.StatusCode)
	}
	if p, err := png.Decode(strings.NewReader(th)); err != nil || p.Bounds().Dx() != 64 {
		t.Fatalf("thumbnail: %v", err)
	}
	for path, want := range map[string]int{
		fmt.Sprintf("/staff/images/%d?f=2", inst):      http.StatusNotFound,
		fmt.Sprintf("/staff/images/%d?w=purple", inst): http.StatusUnprocessableEntity,
		fmt.Sprintf("/staff/images/%d?size=-3", inst):  http.StatusUnprocessableEntity,
		"/staff/images/999999":                         http.StatusNotFound,
		"/staff/studies/999999":                        http.StatusNotFound,
	} {
		if res, _ := c.Get(path); res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	// Download: the stored file, byte for byte.
	res, dl := c.Get(fmt.Sprintf("/staff/instances/%d/dicom", inst))
	orig, _ := os.ReadFile(filepath.Join(mustSampleDir(t), "5.dcm"))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/dicom" || !bytes.Equal([]byte(dl), orig) {
		t.Fatalf("download: %d %s, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(dl))
	}
}

func mustSampleDir(t *testing.T) string {
	t.Helper()
	d, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Staff of another department get 404 on the study, its images and files;
// the service desk sees everything.
func TestStudyOtherDepartmentIsNotFound(t *testing.T) {
	srv := testserver.New(t)
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	south := testserver.MustDepartment(t, srv.DB, "SOUTH")
	testserver.MustUser(t, srv.DB, "sam", database.RoleStaff, south)
	testserver.MustUser(t, srv.DB, "desk", database.RoleServiceDesk, nil)
	// Parallel only after MustUser: its lazily set password hash is not
	// synchronised (shared/testkit/testserver), so it must be first written sequentially.
	t.Parallel()
	ct := dicomFixture(t, srv, north)
	inst := instanceOf(t, srv, ct)
	paths := []string{fmt.Sprintf("/staff/studies/%d", ct), fmt.Sprintf("/staff/images/%d", inst), fmt.Sprintf("/staff/instances/%d/dicom", inst)}
	sam := srv.Client(t)
	sam.SignIn("sam", testserver.Password)
	for _, p := range paths {
		if res, _ := sam.Get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("other department GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	desk := srv.Client(t)
	desk.SignIn("desk", testserver.Password)
	for _, p := range paths {
		if res, _ := desk.Get(p); res.StatusCode != http.StatusOK {
			t.Errorf("service desk GET %s: %d, want 200", p, res.StatusCode)
		}
	}
	// Signed out: no images at all.
	anon := srv.Client(t)
	if res, _ := anon.Get(paths[1]); res.StatusCode == http.StatusOK {
		t.Error("image served without sign-in")
	}
}

// An instance in a transfer syntax we cannot decode is stored and
// downloadable; its image is the translated placeholder, not an error.
func TestUndecodableShowsPlaceholder(t *testing.T) {
	srv := testserver.New(t)
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, north)
	// Parallel only after MustUser: its lazily set password hash is not
	// synchronised (shared/testkit/testserver), so it must be first written sequentially.
	t.Parallel()
	st, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := dicom.Synth{StudyUID: "1.2.826.0.1.7", SeriesUID: "1.2.826.0.1.7.1", SOPUID: "1.2.826.0.1.7.1.1", PatientID: "J2K",
		Rows: 8, Cols: 8, BitsAllocated: 8, TransferSyntax: "1.2.840.10008.1.2.4.90", Pixel: func(_, i, _ int) int { return i }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	im := &ingest.Importer{DB: srv.DB, Store: st, DepartmentID: north.ID}
	r := im.Import(context.Background(), "j2k.dcm", bytes.NewReader(b))
	if r.Outcome != ingest.Added {
		t.Fatalf("import: %+v", r)
	}
	inst := instanceOf(t, srv, r.StudyID)
	if _, err := srv.DB.NewUpdate().Table("users").Set("language = 'de'").Where("id = ?", u.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	res, body := c.Get(fmt.Sprintf("/staff/images/%d?size=256", inst))
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("placeholder: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !bytes.Equal([]byte(body), dicom.Unavailable("de", 256)) {
		t.Fatal("not the German placeholder")
	}
	if res, dl := c.Get(fmt.Sprintf("/staff/instances/%d/dicom", inst)); res.StatusCode != http.StatusOK || !bytes.Equal([]byte(dl), b) {
		t.Fatalf("download of undecodable instance: %d", res.StatusCode)
	}
}

// The report status, text and PDF show on the study page for its department only.
func TestStudyReportShown(t *testing.T) {
	srv := testserver.New(t)
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	south := testserver.MustDepartment(t, srv.DB, "SOUTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, north)
	testserver.MustUser(t, srv.DB, "sam", database.RoleStaff, south)
	t.Parallel()
	ctx := context.Background()
	ct := dicomFixture(t, srv, north)
	var uid string
	if err := srv.DB.NewSelect().Table("studies").Column("study_uid").Where("id = ?", ct).Scan(ctx, &uid); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	page := fmt.Sprintf("/staff/studies/%d", ct)
	if got := c.GetDoc(page, http.StatusOK).Find(`[data-testid="report-status"]`).Text(); !strings.Contains(got, "No report") {
		t.Fatalf("status before upload %q", got)
	}
	if _, err := ingest.AttachReport(ctx, srv.DB, st, north.ID, uid, ingest.Report{Text: "Geen afwijkingen.", Status: "preliminary"}); err != nil {
		t.Fatal(err)
	}
	doc := c.GetDoc(page, http.StatusOK)
	if got := doc.Find(`[data-testid="report-status"]`).Text(); !strings.Contains(got, "Preliminary report") {
		t.Fatalf("status %q", got)
	}
	if got := doc.Find(`[data-testid="report-text"] pre`).Text(); got != "Geen afwijkingen." {
		t.Fatalf("report text %q", got)
	}
	pdf := "%PDF-1.4\n%%EOF\n"
	if _, err := ingest.AttachReport(ctx, srv.DB, st, north.ID, uid, ingest.Report{PDF: strings.NewReader(pdf), Status: "final"}); err != nil {
		t.Fatal(err)
	}
	href, ok := c.GetDoc(page, http.StatusOK).Find(`[data-testid="report-pdf"]`).Attr("href")
	if !ok {
		t.Fatal("no PDF link")
	}
	res, body := c.Get(href)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" || body != pdf || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("PDF: %d %v", res.StatusCode, res.Header)
	}
	sam := srv.Client(t)
	sam.SignIn("sam", testserver.Password)
	if res, _ := sam.Get(href); res.StatusCode != http.StatusNotFound {
		t.Fatalf("other department's PDF: %d", res.StatusCode)
	}
}
