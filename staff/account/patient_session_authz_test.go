package account_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A patient signed in to a bucket is nobody on the staff side: every staff
// and admin route answers it as signed out (GET: to the staff sign-in; POST:
// 401), and no patient data of the department reaches its body.
func TestPatientSessionOnStaffRoutes(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "DEPT-A")
	ann := testserver.MustUser(t, srv.DB, "ann", database.RoleAdmin, d)
	bd := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	st := testserver.MustPatientStudy(t, srv.DB, d, "P-SECRET", "Secretfamily", "Zoë", &bd)
	b, n := srv.MustBucket(t, ann, []*database.Study{st}, testserver.BucketSpec{})
	c := srv.Client(t)
	c.Get("/")
	res, _ := c.PostForm("/p/signin", url.Values{"ref": {n.Canonical()}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("patient sign-in answered %d", res.StatusCode)
	}
	id := func(v int64) string { return strconv.FormatInt(v, 10) }
	gets := []string{"/staff/", "/staff/users", "/staff/users/" + id(ann.ID), "/staff/groups", "/staff/labels", "/staff/audit", "/staff/audit.csv",
		"/staff/settings", "/staff/settings/logo", "/staff/status", "/staff/status/" + id(b.ID) + "/row", "/staff/status/" + id(b.ID) + "/unlock",
		"/staff/studies/" + id(st.ID), "/staff/studies/" + id(st.ID) + "/access.csv", "/staff/print?study=" + id(st.ID), "/staff/print/" + id(b.ID)}
	posts := []string{"/staff/users", "/staff/users/" + id(ann.ID) + "/disable", "/staff/groups", "/staff/labels", "/staff/settings",
		"/staff/status/" + id(b.ID) + "/unlock", "/staff/status/" + id(b.ID) + "/revoke", "/staff/status/" + id(b.ID) + "/extend",
		"/staff/studies/" + id(st.ID) + "/labels", "/staff/print"}
	for _, p := range gets {
		res, body := c.Get(p)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/signin") {
			t.Errorf("GET %s as a patient: %d -> %q", p, res.StatusCode, res.Header.Get("Location"))
		}
		if strings.Contains(body, "Secretfamily") || strings.Contains(body, "P-SECRET") {
			t.Errorf("GET %s as a patient shows patient data", p)
		}
	}
	for _, p := range posts {
		res, body := c.PostForm(p, url.Values{"reason": {"patient trying"}, "name": {"x"}})
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s as a patient: %d", p, res.StatusCode)
		}
		if strings.Contains(body, "Secretfamily") {
			t.Errorf("POST %s as a patient shows patient data", p)
		}
	}
	// And the bucket is untouched by all that.
	var state string
	if err := srv.DB.NewRaw(`SELECT state FROM buckets WHERE id = ?`, b.ID).Scan(t.Context(), &state); err != nil || state != database.BucketActive {
		t.Fatalf("bucket state %q (%v)", state, err)
	}
}
