package studylist_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A hundred parallel requests of one staff session for one uncached image,
// full size and as the series thumbnail, all answer 200 with the same
// image per size and record one series view: renders of one image are
// shared and the view audit queues nobody behind a lock (it turned such a
// burst into 500s with SQLSTATE 55P03 at the server's 5 s lock timeout).
func TestParallelImageRequestsOfOneStaffSession(t *testing.T) {
	srv := testserver.New(t)
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, north)
	t.Parallel() // after MustUser (see TestStudyDetailAndImages)
	srv.ServerTimeouts(t)
	bd := time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)
	study := testserver.MustPatientStudy(t, srv.DB, north, "P9", "Doe", "Jo", &bd)
	file, err := dicom.Synth{StudyUID: "2.25.2", SeriesUID: "2.25.2.1", SOPUID: "2.25.2.1.1", PatientID: "P9", Modality: "CR",
		Rows: 1024, Cols: 1024, BitsAllocated: 16, BitsStored: 12,
		Pixel: func(_, i, _ int) int { return (i%1024)*3 + (i/1024)%500 + (i*7919)%61 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	inst, series := srv.MustStoredInstance(t, study, file, 1)
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	base := srv.URL + "/staff/images/" + strconv.FormatInt(inst, 10)
	urls := []string{base, base + "?size=128"} // the viewer and the thumbnail
	const requests = 100
	statuses := make([]int, requests)
	bodies := make([][]byte, requests)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range requests {
		wg.Go(func() {
			<-gate
			res, err := c.HTTP.Get(urls[i%2]) // the cookie jar is safe for parallel use
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
			statuses[i], bodies[i] = res.StatusCode, body
		})
	}
	close(gate)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i := range requests {
		if statuses[i] != http.StatusOK {
			t.Fatalf("request %d: %d %.200s", i, statuses[i], bodies[i])
		}
		if len(bodies[i]) < 500 || !bytes.Equal(bodies[i], bodies[i%2]) {
			t.Fatalf("request %d (%s): %d bytes, unlike request %d (%d bytes)", i, urls[i%2], len(bodies[i]), i%2, len(bodies[i%2]))
		}
	}
	if bytes.Equal(bodies[0], bodies[1]) {
		t.Fatal("the thumbnail is the full image")
	}
	var rows int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ? AND actor_id = ? AND details->>'view' = ?`,
		audit.SeriesView, u.ID, "series:"+strconv.FormatInt(series, 10)).Scan(t.Context(), &rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("%d audit rows for one series viewed by one user, want 1", rows)
	}
}
