package patient_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// "Send a new code" while the access is being closed: the patient passed
// the session check, then a wrong code in another tab blocked the bucket
// (or staff revoked it) before the code was issued. The answer is the page
// that says why, as at sign-in, not "the code could not be sent, try again
// later" with a 503 and an ERROR in the log.
func TestResendWhileTheBucketCloses(t *testing.T) {
	for _, c := range []struct {
		state, heading string
	}{
		{database.BucketBlocked, "Access blocked"},
		{database.BucketRevoked, "Access withdrawn"},
	} {
		t.Run(c.state, func(t *testing.T) {
			f := newFixture(t)
			b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org"})
			cl := f.srv.Client(t)
			cl.Get("/")
			if res, _ := cl.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in answered %d", res.StatusCode)
			}
			cl.GetDoc("/p/code", http.StatusOK)
			ctx := context.Background()
			blocker, err := f.srv.DB.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer blocker.Rollback()
			if _, err := blocker.NewRaw("UPDATE buckets SET state = ?, failures = 5, blocked_at = now() WHERE id = ?", c.state, b.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			type answer struct {
				status int
				body   string
			}
			done := make(chan answer)
			go func() {
				res, body := cl.PostForm("/p/code/resend", nil)
				done <- answer{res.StatusCode, body}
			}()
			// The resend passed the session check (the change is not
			// committed) and waits for the bucket's row lock.
			for waiting := 0; waiting < 1; {
				if err := f.srv.DB.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).
					Scan(ctx, &waiting); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if err := blocker.Commit(); err != nil {
				t.Fatal(err)
			}
			a := <-done
			doc := testserver.Doc(t, a.body)
			if a.status != http.StatusForbidden || !strings.Contains(doc.Find("[data-testid=closed]").Text(), c.heading) {
				t.Fatalf("resend answered %d %q, want 403 with %q", a.status, strings.Join(strings.Fields(doc.Find("main").Text()), " "), c.heading)
			}
			if res, _ := cl.Get("/p/code"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
				t.Errorf("the session lives on: /p/code answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
}
