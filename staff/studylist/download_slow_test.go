package studylist_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A streamed response gets the write timeout per stretch without progress
// (web.SendStream, web.SendStreamWriter), not one deadline for the whole
// response: a slow but steady client gets a DICOM file or a CSV export
// slower than 120 s in all whole, one that stops reading is cut off.
func TestSlowStaffDownloads(t *testing.T) {
	t.Parallel()
	srv := testserver.NewSlowLine(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	srv.MustImportSamples(t, d)
	_, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	ctx := t.Context()

	// The largest sample file (over a megabyte: far more than the socket
	// buffers and what the slow client reads in one write timeout).
	var inst struct {
		ID         int64  `bun:"id"`
		StorageKey string `bun:"storage_key"`
		StudyID    int64  `bun:"study_id"`
	}
	if err := srv.DB.NewRaw(`SELECT i.id, i.storage_key, se.study_id FROM instances i JOIN series se ON se.id = i.series_id ORDER BY i.size_bytes DESC LIMIT 1`).Scan(ctx, &inst); err != nil {
		t.Fatal(err)
	}
	blob, err := srv.App.Staff.DICOM.Store.Open(ctx, inst.StorageKey)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(blob)
	blob.Close()
	if err != nil {
		t.Fatal(err)
	}
	// 8,000 views of that study: an audit export of about a megabyte, an
	// access export of half that.
	if _, err := srv.DB.ExecContext(ctx, `INSERT INTO audit_events (action, actor_kind, actor_name, department_id, details)
		SELECT 'study.view', 'staff', 'viewer-' || g, ?, jsonb_build_object('study_id', ?::bigint, 'note', repeat('x', 60)) FROM generate_series(1, 8000) g`,
		d.ID, inst.StudyID); err != nil {
		t.Fatal(err)
	}
	dicomURL := fmt.Sprintf("/staff/instances/%d/dicom", inst.ID)
	accessURL := fmt.Sprintf("/staff/studies/%d/access.csv", inst.StudyID)

	t.Run("slow", func(t *testing.T) {
		t.Run("dicom", func(t *testing.T) {
			t.Parallel()
			res := testserver.SlowGet(t, srv.URL+dicomURL, c.Jar)
			defer res.Body.Close()
			got, err := testserver.ReadSlowly(t, res.Body)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("got %d of %d bytes (same: %v): %v", len(got), len(want), bytes.Equal(got, want), err)
			}
		})
		for _, path := range []string{"/staff/audit.csv", accessURL} {
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				res := testserver.SlowGet(t, srv.URL+path, c.Jar)
				defer res.Body.Close()
				got, err := testserver.ReadSlowly(t, res.Body)
				if err != nil {
					t.Fatalf("export broken after %d bytes: %v", len(got), err)
				}
				recs, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
				if err != nil || len(recs) < 8001 {
					t.Fatalf("export of %d bytes: %d records: %v", len(got), len(recs), err)
				}
				if last := recs[len(recs)-1]; len(last) != len(recs[0]) {
					t.Fatalf("last record %q", last)
				}
			})
		}
	})
	t.Run("stalled", func(t *testing.T) {
		for _, path := range []string{dicomURL, "/staff/audit.csv", accessURL} {
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				res := testserver.SlowGet(t, srv.URL+path, c.Jar)
				defer res.Body.Close()
				got, err := testserver.ReadAfterStall(res.Body)
				if err == nil {
					t.Fatalf("a client that read nothing for %s still got all %d bytes", 2*testserver.SlowWriteTimeout, len(got))
				}
			})
		}
	})
}
