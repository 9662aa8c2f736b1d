package patient_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// radiograph is a 2 MB 16-bit image, big enough that parallel requests
// overlap while it renders.
func radiograph(t *testing.T) []byte {
	t.Helper()
	b, err := dicom.Synth{StudyUID: "2.25.1", SeriesUID: "2.25.1.1", SOPUID: "2.25.1.1.1", PatientID: "P001", Modality: "CR",
		Rows: 1024, Cols: 1024, BitsAllocated: 16, BitsStored: 12,
		Pixel: func(_, i, _ int) int { return (i%1024)*3 + (i/1024)%500 + (i*7919)%61 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A hundred parallel requests of one patient session for one uncached
// image (a hundred patients sharing one access open the same X-ray) all
// answer 200 with the same image, and the view is audited once: they share
// one decode (one each costs 1.2 GB RSS and 10 s) and do not queue on the
// view's row past the lock timeout (SQLSTATE 55P03).
func TestParallelImageRequestsOfOneSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.ServerTimeouts(t)
	inst, series := f.srv.MustStoredInstance(t, f.studies[0], radiograph(t), 1)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	c := signedIn(t, f.srv, n, birth)
	url := f.srv.URL + "/p/images/" + strconv.FormatInt(inst, 10)
	const requests = 100
	statuses := make([]int, requests)
	bodies := make([][]byte, requests)
	types := make([]string, requests)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range requests {
		wg.Go(func() {
			<-gate
			res, err := c.HTTP.Get(url) // the session's cookie jar is safe for parallel use
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i], bodies[i], types[i] = res.StatusCode, body, res.Header.Get("Content-Type")
		})
	}
	close(gate)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range requests {
		if statuses[i] != http.StatusOK || types[i] != "image/jpeg" {
			t.Fatalf("request %d: %d %s %.200s", i, statuses[i], types[i], bodies[i])
		}
		if len(bodies[i]) < 1000 || !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("request %d: %d bytes, unlike request 0 (%d bytes)", i, len(bodies[i]), len(bodies[0]))
		}
	}
	var rows int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ? AND bucket_id = ? AND details->>'view' = ?`,
		audit.SeriesView, b.ID, "series:"+strconv.FormatInt(series, 10)).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("%d audit rows for one series viewed by one bucket, want 1", rows)
	}
	// The image is what a renderer of its own makes of the file.
	st, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, _, _, err := st.Put(t.Context(), bytes.NewReader(radiograph(t)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := (&dicom.Renderer{Store: st}).Render(t.Context(), dicom.Request{StorageKey: key, Lang: "en"})
	if err != nil || !bytes.Equal(want.Data, bodies[0]) {
		t.Fatalf("the served image differs from a render alone (%v)", err)
	}
}
