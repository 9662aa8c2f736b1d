package patient_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// downloadFixture imports the real samples and prints a bucket of the CT study.
func downloadFixture(t *testing.T, anonymize bool) (*testserver.Server, *testserver.Client, *database.Bucket, string) {
	t.Helper()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	ct := srv.MustImportSamples(t, d)
	ctx := context.Background()
	var p database.Patient
	if err := srv.DB.NewRaw(`UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?) RETURNING *`, ct).Scan(ctx, &p); err != nil {
		t.Fatal(err)
	}
	// What identifies the patient in the files: the DICOM name and the ID.
	family := p.PatientID + "|" + p.FamilyName + "^" + p.GivenName
	b, n := srv.MustBucket(t, u, []*database.Study{{ID: ct}}, testserver.BucketSpec{Anonymize: anonymize, Language: "nl"})
	c := signedInAt(t, srv, n)
	return srv, c, b, family
}

func signedInAt(t *testing.T, srv *testserver.Server, n interface{ Canonical() string }) *testserver.Client {
	t.Helper()
	c := srv.Client(t)
	c.Get("/")
	res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", res.StatusCode)
	}
	return c
}

func fetchZip(t *testing.T, c *testserver.Client, srvURL string) *zip.Reader {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srvURL+"/p/download", nil)
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" || !strings.Contains(res.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("download answered %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	return zr
}

func TestDownloadHasDICOMDIRAndReadme(t *testing.T) {
	srv, c, b, _ := downloadFixture(t, false)
	zr := fetchZip(t, c, srv.URL)
	names := map[string]*zip.File{}
	for _, f := range zr.File {
		names[f.Name] = f
	}
	if names["DICOMDIR"] == nil || names["README.txt"] == nil {
		t.Fatalf("zip holds %v", names)
	}
	rc, _ := names["README.txt"].Open()
	readme, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(readme), "DICOMDIR") {
		t.Fatalf("read-me: %s", readme)
	}
	var dicomFiles int
	for name := range names {
		if strings.HasPrefix(name, "DICOM/") {
			dicomFiles++
		}
	}
	var want int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM instances i JOIN series se ON se.id = i.series_id JOIN bucket_studies bs ON bs.study_id = se.study_id WHERE bs.bucket_id = ?`, b.ID).Scan(context.Background(), &want); err != nil {
		t.Fatal(err)
	}
	if dicomFiles != want || want == 0 {
		t.Fatalf("%d DICOM files in the zip, want %d", dicomFiles, want)
	}
	var n int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = 'study.download' AND bucket_id = ?`, b.ID).Scan(context.Background(), &n); err != nil || n != 1 {
		t.Fatalf("%d download audit events (%v)", n, err)
	}
}

func shortNumber(s string) bool { return len(s) < 8 && strings.Trim(s, "0123456789") == "" }

// An anonymized bucket's files are de-identified: parsed back, they carry
// Anonymous^<number>, no original name, and Patient Identity Removed = YES.
func TestDownloadAnonymizedIsDeidentified(t *testing.T) {
	srv, c, b, family := downloadFixture(t, true)
	zr := fetchZip(t, c, srv.URL)
	var checked int
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(rc)
		rc.Close()
		for _, id := range strings.Split(family, "|") {
			// A short numeric ID ("0010") occurs by chance in random UIDs and
			// dummy dates: for it, no value may equal it (checked below).
			if len(id) > 2 && id != "^" && !shortNumber(id) && bytes.Contains(bytes.ToUpper(raw), bytes.ToUpper([]byte(id))) {
				t.Fatalf("%s still holds the patient's identity %q", f.Name, id)
			}
		}
		if !strings.HasPrefix(f.Name, "DICOM/") {
			continue
		}
		ds, err := dcm.Parse(bytes.NewReader(raw), int64(len(raw)), nil, dcm.SkipPixelData())
		if err != nil {
			t.Fatalf("%s does not parse back: %v", f.Name, err)
		}
		for e := range ds.FlatIterator() {
			for _, id := range strings.Split(family, "|") {
				if v, ok := e.Value.GetValue().([]string); ok && shortNumber(id) && slices.Contains(v, id) {
					t.Fatalf("%s: %v still holds the patient's ID %q", f.Name, e.Tag, id)
				}
			}
		}
		name, err := ds.FindElementByTag(tag.PatientName)
		if err != nil || !strings.Contains(name.Value.String(), "Anonymous^"+b.AnonNumber) {
			t.Fatalf("%s patient name %v", f.Name, name)
		}
		removed, err := ds.FindElementByTag(tag.PatientIdentityRemoved)
		if err != nil || !strings.Contains(removed.Value.String(), "YES") {
			t.Fatalf("%s Patient Identity Removed %v", f.Name, removed)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no DICOM file checked")
	}
}

// Many anonymized downloads at once all complete (a few de-identify at a
// time, the others wait): every answer is a whole ZIP. Twice the slots
// (anonSlots, 4): a whole second wave waits for a slot.
func TestParallelAnonymizedDownloads(t *testing.T) {
	srv, c, _, _ := downloadFixture(t, true)
	const n = 8
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			defer func() {
				if r := recover(); r != nil {
					errs <- fmt.Errorf("%v", r)
				}
			}()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p/download", nil)
			res, err := c.HTTP.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				errs <- err
				return
			}
			if _, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err != nil || res.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("status %d, zip: %v", res.StatusCode, err)
				return
			}
			errs <- nil
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
