package patient_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Non-BMP input (emoji, math letters) in every patient field, 120 times in
// parallel: a clear 422 each time, never a 5xx, and nothing counted.
func TestNonBMPInputInParallel(t *testing.T) {
	f := newFixture(t)
	f.srv.App.Patient.IPThrottle = nil // all from one address
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org"})
	forms := []url.Values{
		{"ref": {"😀😀😀😀-𝐀𝐁𝐂𝐃"}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}},
		{"ref": {n.Canonical()}, "dob_day": {"𝟗"}, "dob_month": {"3"}, "dob_year": {"1961"}},
		{"ref": {n.Canonical()[:16] + "😀"}, "dob_day": {"9"}, "dob_month": {"😀"}, "dob_year": {"1961"}},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	for i := 0; i < 120; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := f.srv.Client(t)
			c.Get("/")
			res, body := c.PostForm("/p/signin", forms[i%len(forms)])
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "signin-form") {
				mu.Lock()
				bad = append(bad, res.Status)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d answers were not the form with a 422: %v", len(bad), bad[:min(5, len(bad))])
	}
	// A code page with an emoji code: refused and counted as one wrong code.
	c := f.srv.Client(t)
	c.Get("/")
	c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	c.Get("/p/code")
	if res, _ := c.PostForm("/p/code", url.Values{"code": {"😀😀😀😀😀😀"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("emoji code answered %d", res.StatusCode)
	}
	if fails, _ := failuresOf(t, f.srv, b.ID); fails != 1 {
		t.Fatalf("failures %d after typos and one emoji code, want 1", fails)
	}
}
