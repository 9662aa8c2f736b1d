package patient_test

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// slowZipClient signs a patient in to a bucket with the sample file nearest
// 1 MB (an MR) on a server with a short write timeout.
func slowZipClient(t *testing.T) *testserver.Client {
	t.Helper()
	srv := testserver.NewSlowLine(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	srv.MustImportSamples(t, d)
	ctx := t.Context()
	var study int64
	if err := srv.DB.NewRaw(`SELECT se.study_id FROM instances i JOIN series se ON se.id = i.series_id ORDER BY abs(i.size_bytes - 1000000) LIMIT 1`).Scan(ctx, &study); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.ExecContext(ctx, `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, study); err != nil {
		t.Fatal(err)
	}
	_, n := srv.MustBucket(t, u, []*database.Study{{ID: study}}, testserver.BucketSpec{})
	return signedInAt(t, srv, n)
}

// A download that takes longer than the server's write timeout, but keeps
// moving, arrives whole: the write timeout bounds each stall, not the whole
// ZIP, so a phone on a slow line does not get a truncated file.
func TestSlowSteadyDownloadArrivesWhole(t *testing.T) {
	t.Parallel()
	res := slowZipClient(t).GetSlow("/p/download")
	defer res.Body.Close()
	body, err := testserver.ReadSlowly(t, res.Body)
	if err != nil {
		t.Fatalf("download broken after %d bytes: %v", len(body), err)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("a truncated ZIP of %d bytes: %v", len(body), err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
}

// A client that stops reading is still cut off after the write timeout:
// the ZIP it reads afterwards is short.
func TestStalledDownloadIsCutOff(t *testing.T) {
	t.Parallel()
	res := slowZipClient(t).GetSlow("/p/download")
	defer res.Body.Close()
	body, err := testserver.ReadAfterStall(res.Body)
	if err == nil {
		t.Fatalf("a client that read nothing for %s still got all %d bytes", 2*testserver.SlowWriteTimeout, len(body))
	}
}
