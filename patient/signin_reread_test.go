package patient_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// When the bucket changed between the sign-in's read and its write, the
// sign-in runs again under the row lock (buckets.SignInThen). That second
// run still deletes the browser's previous session row and stores exactly
// one new one with one "signin ok" row. Here every version check fails, so
// every sign-in takes that second run.
func TestSignInRerunReplacesTheOldSession(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, n1 := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	b2, n2 := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	count := func(q string, args ...any) int {
		t.Helper()
		var k int
		if err := f.srv.DB.NewRaw(q, args...).Scan(ctx, &k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	c := f.srv.Client(t)
	c.Get("/")
	if res, _ := c.PostForm("/p/signin", signInForm(n1.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first sign-in answered %d", res.StatusCode)
	}
	if k := count(`SELECT count(*) FROM sessions WHERE kind = 'patient'`); k != 1 {
		t.Fatalf("%d patient sessions after one sign-in", k)
	}
	if _, err := f.srv.DB.ExecContext(ctx, `CREATE OR REPLACE FUNCTION bucket_unchanged(bucket_id bigint, seen xid) RETURNS void
		LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'changed' USING ERRCODE = 'serialization_failure'; END$$`); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.PostForm("/p/signin", signInForm(n2.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in answered %d", res.StatusCode)
	}
	if k := count(`SELECT count(*) FROM sessions WHERE kind = 'patient'`); k != 1 {
		t.Errorf("%d patient sessions after signing in again in the same browser, want 1 (the old one deleted)", k)
	}
	if k := count(`SELECT count(*) FROM audit_events WHERE action = ? AND outcome = 'ok' AND bucket_id = ?`, audit.PatientSignIn, b2.ID); k != 1 {
		t.Errorf("%d 'signin ok' rows for the second bucket, want 1", k)
	}
	if res, _ := c.Get("/p/"); res.StatusCode != http.StatusOK {
		t.Errorf("signed in again, /p/ answered %d", res.StatusCode)
	}
}
