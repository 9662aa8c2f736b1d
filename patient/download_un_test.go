package patient_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/dicomzip"
	"github.com/radpass/radpass/shared/testkit/testtool"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A study holding a file that stores its attributes as UN (pydicom's
// rtdose_rle.dcm), with an instance row that lacks its SOP class and
// modality (as a reader blind to UN values stored it): the patient's
// download, plain and anonymized, answers a complete archive (`zip -T`,
// Info-ZIP) whose DICOMDIR describes the file from the file itself.
func TestDownloadOfUNFileIsComplete(t *testing.T) {
	zipBin := testtool.Path(t, "zip")
	for _, anon := range []bool{false, true} {
		srv := testserver.New(t)
		d := testserver.MustDepartment(t, srv.DB, "NORTH")
		u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
		st, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open("/usr/lib/python3/dist-packages/pydicom/data/test_files/rtdose_rle.dcm")
		if err != nil {
			t.Fatalf("pydicom's test files (Debian python3-pydicom, scripts/deps.sh test): %v", err)
		}
		res := (&ingest.Importer{DB: srv.DB, Store: st, DepartmentID: d.ID}).Import(context.Background(), "rtdose_rle.dcm", f)
		f.Close()
		if res.Outcome != ingest.Added {
			t.Fatalf("import: %+v", res)
		}
		ctx := context.Background()
		for _, q := range []string{
			`UPDATE instances SET sop_class_uid = '' WHERE series_id IN (SELECT id FROM series WHERE study_id = ?)`,
			`UPDATE series SET modality = '' WHERE study_id = ?`,
			`UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`,
		} {
			if _, err := srv.DB.ExecContext(ctx, q, res.StudyID); err != nil {
				t.Fatal(err)
			}
		}
		_, n := srv.MustBucket(t, u, []*database.Study{{ID: res.StudyID}}, testserver.BucketSpec{Anonymize: anon, Language: "en"})
		c := signedInAt(t, srv, n)
		if anon {
			// A row without its class may hold burned-in text: an anonymized
			// bucket leaves it out (buckets.LeftOut), named in the read-me of a
			// complete archive.
			files := downloadZip(t, c, srv.URL, zipBin)
			if files["DICOM/S0001/I0001"] != nil || !strings.Contains(string(files[dicomzip.ReadmeName]), "Left out: 1 image") {
				t.Errorf("anonymized, class unknown: want the file left out and named in the read-me, got %d entries", len(files))
			}
			// The migration marks such rows unread and the start-up backfill
			// reads them again with the UN-aware reader: the class is back
			// and the file goes into the download.
			if _, err := srv.DB.ExecContext(ctx, `UPDATE instances SET burned_in = NULL WHERE sop_class_uid = ''`); err != nil {
				t.Fatal(err)
			}
			if _, err := ingest.BackfillBurnedIn(ctx, srv.DB, st); err != nil {
				t.Fatal(err)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p/download", nil)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("anonymized=%v: download answered %d, %v", anon, resp.StatusCode, err)
		}
		zipPath := filepath.Join(t.TempDir(), "download.zip")
		if err := os.WriteFile(zipPath, body, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(zipBin, "-T", zipPath).CombinedOutput(); err != nil {
			t.Fatalf("anonymized=%v: zip -T: %v\n%s", anon, err, out)
		}
		files := unzipAll(t, zipPath)
		dir := string(files["DICOMDIR"])
		if !strings.Contains(dir, "RT DOSE") || !strings.Contains(dir, "1.2.840.10008.5.1.4.1.1.481.2") || files["DICOM/S0001/I0001"] == nil {
			t.Errorf("anonymized=%v: the DICOMDIR does not describe the RT dose file (%d entries)", anon, len(files))
		}
	}
}

// downloadZip downloads the signed-in bucket's ZIP, checks it with zip -T
// and returns its entries.
func downloadZip(t *testing.T, c *testserver.Client, base, zipBin string) map[string][]byte {
	t.Helper()
	resp, err := c.HTTP.Get(base + "/p/download")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download answered %d, %v", resp.StatusCode, err)
	}
	zipPath := filepath.Join(t.TempDir(), "download.zip")
	if err := os.WriteFile(zipPath, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zipBin, "-T", zipPath).CombinedOutput(); err != nil {
		t.Fatalf("zip -T: %v\n%s", err, out)
	}
	return unzipAll(t, zipPath)
}

// unzipAll reads every entry of the zip at path.
func unzipAll(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr := readZip(t, b)
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = data
	}
	return out
}

func readZip(t *testing.T, b []byte) *zip.Reader {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	return zr
}

// When no file of the download can be opened (the storage is failing),
// the patient gets an error answer before any ZIP byte, not an archive of
// read-me lines.
func TestDownloadStorageDown(t *testing.T) {
	srv, c, _, _ := downloadFixture(t, false)
	root := filepath.Join(srv.Config.DataDir, "dicom")
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "tmp" {
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/p/download", nil)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 500 || resp.Header.Get("Content-Type") == "application/zip" || bytes.HasPrefix(body, []byte("PK")) {
		t.Fatalf("answered %d %q (%d bytes)", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if bytes.Contains(body, []byte("dicomzip")) || bytes.Contains(body, []byte("opened")) {
		t.Errorf("the patient sees the internal error:\n%s", body)
	}
}
