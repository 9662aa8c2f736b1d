package patient_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// The "signin ok" audit row and the session row are one transaction: when
// the session cannot be stored the sign-in is not answered as a success and
// leaves no "ok" row; once it can, one sign-in leaves exactly one.
func TestSignInAuditAndSessionCommitTogether(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	// A fault at the session insert, the step after the audit row.
	if _, err := f.srv.DB.ExecContext(ctx, `
		CREATE FUNCTION test_refuse_session() RETURNS trigger LANGUAGE plpgsql AS
			$$BEGIN RAISE EXCEPTION 'session store down'; END$$;
		CREATE TRIGGER test_refuse_session BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION test_refuse_session()`); err != nil {
		t.Fatal(err)
	}
	okRows := func() int {
		var k int
		if err := f.srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ? AND outcome = 'ok' AND bucket_id = ?`,
			audit.PatientSignIn, b.ID).Scan(ctx, &k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	c := f.srv.Client(t)
	c.Get("/")
	if res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode < 500 {
		t.Fatalf("sign-in without a session store answered %d", res.StatusCode)
	}
	if k := okRows(); k != 0 {
		t.Fatalf("a sign-in that was not answered left %d 'signin ok' rows, want 0", k)
	}
	if res, _ := c.Get("/p/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the failed sign-in /p/ answered %d, want the start page", res.StatusCode)
	}
	if _, err := f.srv.DB.ExecContext(ctx, `DROP TRIGGER test_refuse_session ON sessions`); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", res.StatusCode)
	}
	if k := okRows(); k != 1 {
		t.Fatalf("one answered sign-in left %d 'signin ok' rows, want 1", k)
	}
	if res, _ := c.Get("/p/"); res.StatusCode != http.StatusOK {
		t.Fatalf("signed in, /p/ answered %d", res.StatusCode)
	}
}

// The same for the one-time password: a right code whose session cannot be
// stored leaves no "signin ok" row, uses nothing up and keeps the browser's
// code-stage session, so the same code works once the store is back.
func TestCodeSignInAuditAndSessionCommitTogether(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe.lukasik@example.org"})
	c := f.srv.Client(t)
	c.Get("/")
	if res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", res.StatusCode)
	}
	code := lastOutboxCode(t, f.srv, "zoe.lukasik@example.org")
	if _, err := f.srv.DB.ExecContext(ctx, `
		CREATE FUNCTION test_refuse_session() RETURNS trigger LANGUAGE plpgsql AS
			$$BEGIN RAISE EXCEPTION 'session store down'; END$$;
		CREATE TRIGGER test_refuse_session BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION test_refuse_session()`); err != nil {
		t.Fatal(err)
	}
	okRows := func() int {
		var k int
		if err := f.srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ? AND outcome = 'ok' AND bucket_id = ?`,
			audit.PatientSignIn, b.ID).Scan(ctx, &k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	if res, _ := c.PostForm("/p/code", url.Values{"code": {code}}); res.StatusCode < 500 {
		t.Fatalf("right code without a session store answered %d", res.StatusCode)
	}
	if k := okRows(); k != 0 {
		t.Fatalf("an unanswered code sign-in left %d 'signin ok' rows, want 0", k)
	}
	if _, err := f.srv.DB.ExecContext(ctx, `DROP TRIGGER test_refuse_session ON sessions`); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.PostForm("/p/code", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the same code once the store is back answered %d", res.StatusCode)
	}
	if k := okRows(); k != 1 {
		t.Fatalf("one answered code sign-in left %d 'signin ok' rows, want 1", k)
	}
}
