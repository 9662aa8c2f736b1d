package account_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func TestSignOutKillsTheServerSession(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	old := c.Cookie(sessionCookie).Value
	c.GetDoc("/staff/", http.StatusOK) // refreshes the CSRF token from the page

	res, body := c.PostForm("/staff/signout", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/signin" {
		t.Fatalf("sign-out: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	line := setCookie(res, sessionCookie)
	if line == "" || cookieValue(line) != "" || !strings.Contains(strings.ToLower(line), "max-age=0") {
		t.Fatalf("sign-out does not expire the cookie: %q", line)
	}
	if n := countSessions(t, srv); n != 0 {
		t.Fatalf("%d session rows after sign-out", n)
	}
	// Replaying the old cookie (a copy kept by an attacker) opens nothing.
	res, body = testserver.Raw(t, http.MethodGet, srv.URL+"/staff/", sessionCookie+"="+old, nil)
	expectSignInRedirect(t, res, body)
	res, body = c.Get("/staff/")
	expectSignInRedirect(t, res, body)
	if n := auditCount(t, srv, audit.SignOut, "ann"); n != 1 {
		t.Fatalf("%d sign-out audit rows, want 1", n)
	}
}

// Sign-out is a POST with a CSRF token: a GET or a forged POST changes nothing.
func TestSignOutNeedsPostAndToken(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	if res, _ := c.Get("/staff/signout"); res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusOK {
		t.Fatalf("GET /staff/signout answered %d", res.StatusCode)
	}
	res, _ := c.PostForm("/staff/signout", map[string][]string{"_csrf": {"forged"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged sign-out: %d, want 403", res.StatusCode)
	}
	res, _ = c.PostForm("/staff/signout", nil, "Origin", "https://evil.example")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin sign-out: %d, want 403", res.StatusCode)
	}
	if n := countSessions(t, srv); n != 1 {
		t.Fatalf("%d sessions, want the one still alive", n)
	}
	if res, _ := c.Get("/staff/"); res.StatusCode != http.StatusOK {
		t.Fatalf("still signed in? %d", res.StatusCode)
	}
}
