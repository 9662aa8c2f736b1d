package server_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A viewer link's DICOMweb answers an outage like every other route: 503
// with Retry-After (a PACS retries), never 500; an answer again when the
// database is back. Before, a stopped PostgreSQL gave 500 "internal error".
func TestViewerLinkOutageAnswers503(t *testing.T) {
	base := testserver.New(t)
	d := testserver.MustDepartment(t, base.DB, "NORTH")
	u := testserver.MustUser(t, base.DB, "ann", database.RoleStaff, d)
	birth := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	st := testserver.MustPatientStudy(t, base.DB, d, "P1", "Peeters", "An", &birth)
	_, n := base.MustBucket(t, u, []*database.Study{st}, testserver.BucketSpec{Language: "en"})

	srv, p := behindProxy(t, base)

	patient := srv.Client(t)
	patient.Get("/")
	form := url.Values{"ref": {n.Canonical()}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}}
	if res, body := patient.PostForm("/p/signin", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", res.StatusCode, body)
	}
	patient.Get("/p/")
	_, body := patient.PostForm("/p/links", nil)
	path := regexp.MustCompile(`/dicomweb/l/rpv_[A-Za-z0-9_-]+`).FindString(body)
	if path == "" {
		t.Fatalf("no viewer link shown:\n%s", body)
	}
	link := srv.URL + path // this server (the page names the configured base URL)
	get := func() *http.Response {
		res, err := http.Get(link + "/studies")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	// The study has no instances yet: 204, an answer all the same.
	if res := get(); res.StatusCode != http.StatusNoContent {
		t.Fatalf("QIDO before the outage: %d", res.StatusCode)
	}
	p.down()
	for i := 0; i < 2; i++ { // cut connections, then a closed port
		res := get()
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != http.StatusServiceUnavailable || err != nil || s < 1 {
			t.Fatalf("QIDO during the outage: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	p.up(t)
	if res := get(); res.StatusCode != http.StatusNoContent {
		t.Fatalf("QIDO after the outage: %d", res.StatusCode)
	}
}
