package studylist_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// viewRows counts the audit rows of action by user, optionally for one series.
func viewRows(t *testing.T, srv *testserver.Server, action string, u *database.User, seriesID int64) int {
	t.Helper()
	if seriesID == 0 {
		return srv.Count(t, `SELECT count(*) FROM audit_events WHERE action = ? AND actor_id = ?`, action, u.ID)
	}
	return srv.Count(t, `SELECT count(*) FROM audit_events WHERE action = ? AND actor_id = ? AND (details->>'series_id')::bigint = ?`,
		action, u.ID, seriesID)
}

// Issue 9 item 5: a study page fetched by htmx shows patient data, so it is
// a recorded view; rendered images are recorded once per series (not once
// per frame), even when many frames are fetched at once.
func TestViewsAreAuditedWhateverTheHeaders(t *testing.T) {
	srv := testserver.New(t)
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	ann := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, north)
	bob := testserver.MustUser(t, srv.DB, "bob", database.RoleStaff, north)
	t.Parallel()
	ct := dicomFixture(t, srv, north)
	inst := instanceOf(t, srv, ct)
	var series int64
	if err := srv.DB.NewRaw(`SELECT series_id FROM instances WHERE id = ?`, inst).Scan(context.Background(), &series); err != nil {
		t.Fatal(err)
	}

	a := srv.Client(t)
	a.SignIn("ann", testserver.Password)
	page := fmt.Sprintf("/staff/studies/%d", ct)
	res, body := a.Get(page, "HX-Request", "true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("study page for htmx: %d", res.StatusCode)
	}
	if !strings.Contains(body, "data-testid") {
		t.Fatalf("the htmx answer shows no study:\n%s", body)
	}
	if n := viewRows(t, srv, "study.view", ann, 0); n != 1 {
		t.Fatalf("%d study.view rows after an htmx request, want 1", n)
	}
	if res, _ := a.Get(page+"?f=1", "HX-Request", "true", "HX-Target", "viewer"); res.StatusCode != http.StatusOK {
		t.Fatalf("viewer step: %d", res.StatusCode)
	}
	if n := viewRows(t, srv, "study.view", ann, 0); n != 1 {
		t.Fatalf("%d study.view rows after a viewer step, want still 1", n)
	}

	// Bob never opens the page: only images, many frames, many at once.
	b := srv.Client(t)
	b.SignIn("bob", testserver.Password)
	hc := &http.Client{Jar: b.Jar}
	var wg sync.WaitGroup
	statuses := make([]int, 24)
	gate := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			header := []string{}
			if i%2 == 0 {
				header = []string{"HX-Request", "true"}
			}
			s := srv.Send(hc, http.MethodGet, fmt.Sprintf("/staff/images/%d?f=%d&size=64", inst, i%2), nil, header...)
			statuses[i] = s.Status
		}(i)
	}
	close(gate)
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("image %d: %d", i, s)
		}
	}
	if n := viewRows(t, srv, "series.view", bob, series); n != 1 {
		t.Fatalf("%d series.view rows for %d frames fetched, want 1", n, len(statuses))
	}
	if n := viewRows(t, srv, "study.view", bob, 0); n != 0 {
		t.Fatalf("%d study.view rows for images only", n)
	}
	// Ann's views are hers: Bob's images did not add to them and hers count apart.
	if n := viewRows(t, srv, "series.view", ann, series); n != 1 {
		t.Fatalf("%d series.view rows for ann, want 1 (from her page)", n)
	}
}

// Issue 9 item 12: pages and files with patient data refuse requests another
// site started (Sec-Fetch-Site cross-site or same-site), and write no audit
// row for them; the app's own requests and typed URLs are served.
func TestPatientDataRefusesOtherSites(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	srv := f.Srv
	ctx := context.Background()
	ct := dicomFixture(t, srv, f.Dept)
	inst := instanceOf(t, srv, ct)
	var uid string
	if err := srv.DB.NewSelect().Table("studies").Column("study_uid").Where("id = ?", ct).Scan(ctx, &uid); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.AttachReport(ctx, srv.DB, st, f.Dept.ID, uid, ingest.Report{PDF: strings.NewReader("%PDF-1.4\n%%EOF\n"), Status: "final"}); err != nil {
		t.Fatal(err)
	}
	bucket := f.Print(t, f.ValidForm())
	paths := []string{
		fmt.Sprintf("/staff/studies/%d", ct),
		fmt.Sprintf("/staff/images/%d?f=0&size=64", inst),
		fmt.Sprintf("/staff/studies/%d/report", ct),
		fmt.Sprintf("/staff/instances/%d/dicom", inst),
		"/staff/print/" + strconv.FormatInt(bucket, 10) + "/letter?lang=en",
	}
	before := srv.Count(t, `SELECT count(*) FROM audit_events`)
	for _, p := range paths {
		for _, site := range []string{"cross-site", "same-site"} {
			if res, _ := f.C.Get(p, "Sec-Fetch-Site", site); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with Sec-Fetch-Site %s: %d, want 403", p, site, res.StatusCode)
			}
		}
	}
	if after := srv.Count(t, `SELECT count(*) FROM audit_events`); after != before {
		t.Errorf("refused requests wrote %d audit rows", after-before)
	}
	for _, p := range paths {
		for _, site := range []string{"same-origin", "none", ""} {
			header := []string{}
			if site != "" {
				header = []string{"Sec-Fetch-Site", site}
			}
			if res, _ := f.C.Get(p, header...); res.StatusCode != http.StatusOK {
				t.Errorf("%s with Sec-Fetch-Site %q: %d, want 200", p, site, res.StatusCode)
			}
		}
	}
}
