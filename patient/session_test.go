package patient_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// The patient session ends after 15 idle minutes and 2 hours in all,
// enforced on the server whatever the browser keeps; sign-in gives a new id.
func TestPatientSessionLimits(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	now := time.Now()
	f.srv.App.PatientSessions.Store.Now = func() time.Time { return now }

	c := f.srv.Client(t)
	c.Get("/")
	res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	var set string
	for _, v := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "radpass_patient=") {
			set = v
		}
	}
	if set == "" || !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Lax") {
		t.Fatalf("patient cookie %q", set)
	}
	first := c.Cookie("radpass_patient").Value
	c.PostForm("/p/signout", nil)
	c.Get("/")
	c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if c.Cookie("radpass_patient").Value == first {
		t.Fatal("a new sign-in kept the old session id")
	}
	if res, body := c.Get("/p/"); res.StatusCode != http.StatusOK {
		t.Fatalf("right after the second sign-in: %d %s %v", res.StatusCode, body, res.Header)
	}
	for i := 0; i < 8; i++ { // active every 14 minutes (112 min): kept alive past the idle limit...
		now = now.Add(14 * time.Minute)
		c.GetDoc("/p/", http.StatusOK)
	}
	now = now.Add(14 * time.Minute) // ...but never past 2 hours (126 min)
	if res, _ := c.Get("/p/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("session past 2 h answered %d", res.StatusCode)
	}
	c = signedIn(t, f.srv, n, birth)
	now = now.Add(16 * time.Minute)
	if res, _ := c.Get("/p/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("session idle 16 min answered %d", res.StatusCode)
	}
}

// One address gets 30 sign-in tries per 15 minutes at once, whatever the
// numbers; the next is slowed down (429, Retry-After, "wait N seconds").
func TestSignInPerAddressLimit(t *testing.T) {
	f := newFixture(t)
	c := f.srv.Client(t)
	c.Get("/")
	var last *http.Response
	var body string
	for i := 0; i < 31; i++ {
		n, _ := refnum.New()
		last, body = c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || !strings.Contains(body, "Please wait") {
		t.Fatalf("31st try answered %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
}

// Successful sign-ins do not count against the address: a hospital's
// waiting room or a mobile carrier's NAT puts many patients behind one
// address, and counting successes would refuse the 31st patient of a quarter
// of an hour (and everyone else after them, for 15 minutes).
func TestSignInPerAddressLimitCountsOnlyRefusals(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	for i := 0; i < 35; i++ {
		c := f.srv.Client(t)
		c.Get("/")
		res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in %d from the shared address answered %d", i+1, res.StatusCode)
		}
	}
}
