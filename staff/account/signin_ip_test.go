package account_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// One address that fails across many account names is locked out, even for
// an account whose own counter is clean; the accounts themselves stay usable
// from elsewhere.
func TestSignInThrottledPerAddress(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	srv.App.Staff.IPThrottle.Max = 4 // the default is 50; the rule is the same
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	c := srv.Client(t)
	c.Get("/staff/signin")
	for i := 0; i < 4; i++ {
		res, _ := c.PostForm("/staff/signin", url.Values{"username": {"guess" + strconv.Itoa(i)}, "password": {"wrong-password"}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: status %d, want 422", i+1, res.StatusCode)
		}
	}
	res, body := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password from a locked address: status %d, want 429", res.StatusCode)
	}
	if msg := testserver.Doc(t, body).Find(".alert.error").Text(); msg == "" {
		t.Error("no message on the locked page")
	}
	// The refused try did not count against ann's own account.
	var failures int
	if err := srv.DB.NewRaw(`SELECT coalesce((SELECT failures FROM throttle WHERE key LIKE 'staff:ann|%'), 0)`).Scan(t.Context(), &failures); err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Fatalf("ann's account counted %d failures from the locked address", failures)
	}
}
