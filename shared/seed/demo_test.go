package seed_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// demoPatients is enough for every exam, every sample file and every demo
// bucket to have a study (the test fails otherwise).
const demoPatients = 40

// One seeded server for the whole test: seeding is the slow part. It runs
// without the race detector (the NoRace pass of make test): generating 40
// patients' pixels under -race took minutes of the suite's CPU and the
// detector saw nothing more in them than in TestDemoImportsInParallel,
// which runs the same parallel import under -race.
func TestDemoTellsTheTruthNoRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := testserver.New(t)
	root := filepath.Join(srv.Config.DataDir, "dicom") // the server's own storage
	res, err := seed.Demo(ctx, srv.DB, seed.Options{Patients: demoPatients, StorageRoot: root, Key: srv.Config.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d studies, %d instances, %.1f MB, %d reports, %d buckets in %s", res.Studies, res.Instances, float64(res.Bytes)/(1<<20), res.Reports, len(res.Buckets), res.Took)

	t.Run("counts come from stored instances", func(t *testing.T) { countsAreStored(t, srv, st, res) })
	t.Run("generated files are valid DICOM", func(t *testing.T) { filesAreValid(t, srv, st) })
	t.Run("samples join fitting studies", func(t *testing.T) { samplesJoinStudies(t, srv, st) })
	t.Run("every reported row has a report", func(t *testing.T) { reportsAreThere(t, srv, st) })
	t.Run("buckets of each kind and state", func(t *testing.T) { bucketStates(t, srv, res) })
	t.Run("first study opens with images and report", func(t *testing.T) { firstStudyOpens(t, srv, res) })
}

// The demo's parallel import (four workers, shared counters) under the race
// detector, on a demo just big enough for every worker to import a study:
// the counts it reports are the rows stored.
func TestDemoImportsInParallel(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	res, err := seed.Demo(context.Background(), srv.DB, seed.Options{Patients: 4, Workers: 4,
		StorageRoot: filepath.Join(srv.Config.DataDir, "dicom"), Key: srv.Config.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if res.Studies < 4 {
		t.Fatalf("%d studies for 4 patients", res.Studies)
	}
	if n := count(t, srv, `SELECT count(*) FROM instances`); n != res.Instances || n == 0 {
		t.Fatalf("%d instances stored, Demo says %d", n, res.Instances)
	}
	if n := count(t, srv, `SELECT coalesce(sum(size_bytes), 0) FROM instances`); int64(n) != res.Bytes {
		t.Fatalf("%d bytes stored, Demo says %d", n, res.Bytes)
	}
}

func count(t *testing.T, srv *testserver.Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Every study row's image and series counts are what is stored, every
// study has images, CT/MR studies several series, and every stored file
// is there, parses, and is the row's patient.
func countsAreStored(t *testing.T, srv *testserver.Server, st storage.Store, res *seed.Result) {
	ctx := context.Background()
	if n := count(t, srv, `SELECT count(*) FROM studies`); n != res.Studies || n < demoPatients {
		t.Fatalf("%d studies, Demo says %d", n, res.Studies)
	}
	if n := count(t, srv, `SELECT count(*) FROM studies s WHERE s.num_instances <> (SELECT count(*) FROM instances i JOIN series se ON se.id = i.series_id WHERE se.study_id = s.id)
		OR s.num_series <> (SELECT count(*) FROM series se WHERE se.study_id = s.id)`); n != 0 {
		t.Fatalf("%d studies whose counts are not what is stored", n)
	}
	if n := count(t, srv, `SELECT count(*) FROM series se WHERE se.num_instances <> (SELECT count(*) FROM instances i WHERE i.series_id = se.id)`); n != 0 {
		t.Fatalf("%d series whose counts are not what is stored", n)
	}
	if n := count(t, srv, `SELECT count(*) FROM studies WHERE num_instances = 0`); n != 0 {
		t.Fatalf("%d studies without images", n)
	}
	if n := count(t, srv, `SELECT count(*) FROM studies WHERE modalities && '{CT,MR}' AND num_series < 2`); n != 0 {
		t.Fatalf("%d CT/MR studies with a single series", n)
	}
	if n := count(t, srv, `SELECT count(*) FROM instances`); n != res.Instances {
		t.Fatalf("%d instances stored, Demo says %d", n, res.Instances)
	}
	if n := count(t, srv, `SELECT count(*) FROM instances WHERE frames > 1`); n == 0 {
		t.Fatal("no multi-frame instance")
	}
	var rows []struct {
		Key string `bun:"storage_key"`
		PID string `bun:"patient_id"`
	}
	if err := srv.DB.NewRaw(`SELECT i.storage_key, p.patient_id FROM instances i JOIN series se ON se.id = i.series_id
		JOIN studies s ON s.id = se.study_id JOIN patients p ON p.id = s.patient_id`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		b, err := st.Open(ctx, r.Key)
		if err != nil {
			t.Fatalf("stored file %s: %v", r.Key, err)
		}
		m, err := dicom.ReadMeta(b, b.Size())
		b.Close()
		if err != nil || m.PatientID != r.PID {
			t.Fatalf("file %s: %v, patient %q, row %q", r.Key, err, m.PatientID, r.PID)
		}
	}
}

// One instance of each SOP class and transfer syntax the demo generates:
// dciodvfy finds no error, dcmdump reads it, and its middle frame renders
// as a picture (not one flat grey).
func filesAreValid(t *testing.T, srv *testserver.Server, st storage.Store) {
	ctx := context.Background()
	testtool.Need(t, "dciodvfy", "dcmdump")
	var rows []struct {
		Key   string `bun:"storage_key"`
		Class string `bun:"sop_class_uid"`
		TS    string `bun:"transfer_syntax"`
		Mod   string `bun:"modality"`
	}
	// Synthetic series only: the samples' series keep their own descriptions.
	if err := srv.DB.NewRaw(`SELECT DISTINCT ON (i.sop_class_uid, i.transfer_syntax, se.modality) i.storage_key, i.sop_class_uid, i.transfer_syntax, se.modality
		FROM instances i JOIN series se ON se.id = i.series_id
		WHERE se.description NOT IN ('', 'PET-CT SERIES', 'SSh_DWI FAST') ORDER BY i.sop_class_uid, i.transfer_syntax, se.modality, i.id`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	mods := map[string]bool{}
	dir := t.TempDir()
	for _, r := range rows {
		mods[r.Mod] = true
		b, err := st.Open(ctx, r.Key)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(b)
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, r.Mod+".dcm")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command("dciodvfy", path).CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "Error") || strings.Contains(line, "Warning") {
				t.Errorf("%s (%s, %s): dciodvfy: %s", r.Mod, r.Class, r.TS, line)
			}
		}
		if out, err := exec.Command("dcmdump", "-q", path).CombinedOutput(); err != nil {
			t.Errorf("%s: dcmdump: %v\n%s", r.Mod, err, out)
		}
		im, err := dicom.Decode(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", r.Mod, err)
		}
		img, err := im.Render(dicom.Options{Frame: im.Frames() / 2})
		if err != nil {
			t.Fatalf("%s: %v", r.Mod, err)
		}
		levels := map[uint32]bool{}
		bounds := img.Bounds()
		for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
			for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
				g, _, _, _ := img.At(x, y).RGBA()
				levels[g>>8] = true
			}
		}
		if len(levels) < 5 {
			t.Errorf("%s: the picture has %d grey levels", r.Mod, len(levels))
		}
	}
	for _, m := range []string{"CT", "MR", "CR", "DX", "MG", "US", "PT"} {
		if !mods[m] {
			t.Errorf("no generated %s instance", m)
		}
	}
}

// The six real sample files are series of demo studies of a fitting exam,
// copied for that study's patient.
func samplesJoinStudies(t *testing.T, srv *testserver.Server, st storage.Store) {
	var rows []struct {
		Desc string `bun:"description"`
		Mod  string `bun:"modality"`
		N    int    `bun:"n"`
	}
	if err := srv.DB.NewRaw(`SELECT s.description, se.modality, count(*) AS n FROM series se JOIN studies s ON s.id = se.study_id JOIN instances i ON i.series_id = se.id
		WHERE se.description IN ('', 'PET-CT SERIES', 'SSh_DWI FAST') GROUP BY 1, 2 ORDER BY 1, 2`).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"PT": "PET-CT whole body", "MR": "MRI prostate", "CR": "X-ray chest PA/LAT", "CT": "CT abdomen/pelvis", "OT": "CT brain without contrast"}
	total := 0
	for _, r := range rows {
		if want[r.Mod] != r.Desc {
			t.Errorf("a %s sample is in a %q study", r.Mod, r.Desc)
		}
		total += r.N
	}
	if total != len(dicom.SampleFiles) {
		t.Fatalf("%d sample instances stored (%+v), want %d", total, rows, len(dicom.SampleFiles))
	}
}

// Every Preliminary/Final row has a report: text, or a PDF that is stored
// and reads as the report (pdftotext); some are under embargo, most not.
func reportsAreThere(t *testing.T, srv *testserver.Server, st storage.Store) {
	ctx := context.Background()
	testtool.Need(t, "pdftotext")
	var studies []database.Study
	if err := srv.DB.NewSelect().Model(&studies).Where("report_status IN ('preliminary', 'final')").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, srv, `SELECT count(*) FROM studies WHERE report_status = 'none' AND (report_text <> '' OR report_pdf_key <> '')`); n != 0 {
		t.Fatalf("%d studies with a report but no status", n)
	}
	pdfs, embargoed, open := 0, 0, 0
	for _, s := range studies {
		switch {
		case s.ReportPDFKey != "":
			pdfs++
			b, err := st.Open(ctx, s.ReportPDFKey)
			if err != nil {
				t.Fatalf("study %d: report PDF: %v", s.ID, err)
			}
			path := filepath.Join(t.TempDir(), "r.pdf")
			data, _ := io.ReadAll(b)
			b.Close()
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("pdftotext", path, "-").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Findings:") || !strings.Contains(string(out), s.Description) {
				t.Fatalf("study %d: pdftotext: %v\n%s", s.ID, err, out)
			}
		case !strings.Contains(s.ReportText, "Findings:"):
			t.Fatalf("study %d (%s): report text %q", s.ID, s.ReportStatus, s.ReportText)
		}
		if s.ReportAvailableAt != nil && s.ReportAvailableAt.After(time.Now()) {
			embargoed++
		} else {
			open++
		}
	}
	if pdfs == 0 || embargoed == 0 || open < len(studies)/2 {
		t.Fatalf("%d reports: %d PDFs, %d under embargo, %d readable now", len(studies), pdfs, embargoed, open)
	}
}

// The demo buckets exist in every verification kind and state, with the
// printed numbers and birth dates doing what the table says.
func bucketStates(t *testing.T, srv *testserver.Server, res *seed.Result) {
	ctx := context.Background()
	var bs []database.Bucket
	if err := srv.DB.NewSelect().Model(&bs).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	today := srv.App.Buckets.Today()
	got := map[string]int{}
	for _, b := range bs {
		got[b.EffectiveState(today)]++
		got[b.Verification]++
		if b.Anonymized {
			got["anonymized"]++
		}
	}
	for _, k := range []string{database.BucketActive, database.BucketBlocked, database.BucketExpired, database.BucketRevoked, database.VerifyDOB, database.VerifySMS, database.VerifyEmail, "anonymized"} {
		if got[k] == 0 {
			t.Errorf("no demo bucket %s (%v)", k, got)
		}
	}
	if len(res.Buckets) != len(bs) || len(bs) < 8 {
		t.Fatalf("%d buckets stored, Demo printed %d", len(bs), len(res.Buckets))
	}
	want := map[string]buckets.Outcome{database.BucketBlocked: buckets.Blocked, database.BucketExpired: buckets.Expired, database.BucketRevoked: buckets.Revoked}
	for _, d := range res.Buckets {
		n, err := refnum.Parse(d.Number)
		if err != nil {
			t.Fatalf("%s: %v", d.Number, err)
		}
		birth, err := time.Parse(time.DateOnly, d.BirthDate)
		if err != nil {
			t.Fatal(err)
		}
		a, err := srv.App.Buckets.SignIn(ctx, n, birth, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[d.State]
		switch {
		case ok:
		case d.Verification == database.VerifyDOB:
			w = buckets.Open
		default:
			w = buckets.NeedOTP
		}
		if a.Outcome != w {
			t.Errorf("%s %s bucket signs in as %v, want %v", d.Verification, d.State, a.Outcome, w)
		}
	}
	// The numbers are in the dev outbox for a new user to find.
	if n := count(t, srv, `SELECT count(*) FROM dev_outbox WHERE subject = 'Demo reference numbers' AND body_text LIKE ?`, "%"+res.Buckets[0].Number+"%"); n != 1 {
		t.Fatalf("the demo numbers are not in the dev outbox (%d)", n)
	}
}

// The first demo bucket signs in over HTTP and opens the newest study of
// the list: its series, an image, a multi-slice series, and the report.
func firstStudyOpens(t *testing.T, srv *testserver.Server, res *seed.Result) {
	d := res.Buckets[0]
	c := srv.Client(t)
	c.Get("/")
	birth, _ := time.Parse(time.DateOnly, d.BirthDate)
	form := url.Values{"ref": {d.Number}, "dob_day": {birth.Format("2")}, "dob_month": {birth.Format("1")}, "dob_year": {birth.Format("2006")}}
	if r, body := c.PostForm("/p/signin", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", r.StatusCode, body)
	}
	list := c.GetDoc("/p/", http.StatusOK)
	href, ok := list.Find(`[data-testid="study-link"]`).First().Attr("href")
	if !ok {
		t.Fatal("no study on the patient's start page")
	}
	var newest database.Study
	if err := srv.DB.NewSelect().Model(&newest).Where("department_id = (SELECT id FROM departments WHERE code = 'RAD-NORTH')").
		OrderExpr("study_date DESC, id DESC").Limit(1).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if href != "/p/studies/"+strconv.FormatInt(newest.ID, 10) {
		t.Fatalf("the bucket's first study is %s, the study list's first is %d", href, newest.ID)
	}
	page := c.GetDoc(href, http.StatusOK)
	if page.Find(`[data-testid="not-ready"]`).Length() != 0 {
		t.Fatal("the first study says its results are not available yet")
	}
	if n := page.Find(`[data-testid="thumb"]`).Length(); n < 2 {
		t.Fatalf("%d series thumbnails", n)
	}
	if page.Find(`[data-viewer-next]`).Length() == 0 {
		t.Fatal("no next image in the first series")
	}
	src, _ := page.Find(`img[data-testid="image"]`).Attr("src")
	r, body := c.Get(src)
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/") || len(body) < 1000 {
		t.Fatalf("image %s: %d %s, %d bytes", src, r.StatusCode, r.Header.Get("Content-Type"), len(body))
	}
	report, ok := page.Find(`[data-testid="report-link"]`).Attr("href")
	if !ok {
		t.Fatal("no report link on the first study")
	}
	if r, body := c.Get(report); r.StatusCode != http.StatusOK || !strings.Contains(body, "Findings:") {
		t.Fatalf("report: %d\n%s", r.StatusCode, body)
	}
}
