package account_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

const sessionCookie = "radpass_staff"

// setCookie returns the raw Set-Cookie line for name, or "".
func setCookie(res *http.Response, name string) string {
	for _, v := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, name+"=") {
			return v
		}
	}
	return ""
}

func cookieValue(line string) string {
	v, _, _ := strings.Cut(line, ";")
	_, v, _ = strings.Cut(v, "=")
	return v
}

func countSessions(t *testing.T, srv *testserver.Server) int {
	t.Helper()
	n, err := srv.DB.NewSelect().Table("sessions").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func exec(t *testing.T, srv *testserver.Server, query string, args ...any) {
	t.Helper()
	if _, err := srv.DB.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatal(err)
	}
}

// expectSignInRedirect asserts that res sends the browser to the sign-in page.
func expectSignInRedirect(t *testing.T, res *http.Response, body string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/signin") {
		t.Fatalf("want a redirect to sign-in, got %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
}

func TestSessionCookieFlagsOnHTTP(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	c := srv.Client(t)
	res, _ := c.Get("/staff/signin")
	csrf := setCookie(res, "radpass_csrf")
	res, body := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", res.StatusCode, body)
	}
	sess := setCookie(res, sessionCookie)
	for name, line := range map[string]string{"session": sess, "csrf": csrf} {
		if line == "" {
			t.Fatalf("no %s cookie set", name)
		}
		low := strings.ToLower(line)
		for _, want := range []string{"httponly", "samesite=lax", "path=/"} {
			if !strings.Contains(low, want) {
				t.Errorf("%s cookie %q lacks %s", name, line, want)
			}
		}
		if strings.Contains(low, "secure") || strings.Contains(low, "domain=") {
			t.Errorf("%s cookie %q must not be Secure or carry a Domain on plain http", name, line)
		}
	}
	if len(cookieValue(sess)) < 43 {
		t.Errorf("session id %q is shorter than 256 bits", cookieValue(sess))
	}
}

// Behind https the cookies carry Secure and the __Host- prefix. Go's cookie
// jar drops Secure cookies on http, so the headers are handled by hand here;
// the browser's Origin is the public https URL, which the CSRF check must
// accept although the request reaches us as plain http (TLS proxy).
func TestSessionCookieFlagsOnHTTPS(t *testing.T) {
	t.Parallel()
	public := "https://radpass.example.test"
	srv := testserver.New(t, func(c *config.Config) { c.BaseURL, _ = url.Parse(public) })
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)

	res, body := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/signin", "", nil)
	csrfLine := setCookie(res, "__Host-radpass_csrf")
	if csrfLine == "" {
		t.Fatalf("no __Host- CSRF cookie: %v", res.Header.Values("Set-Cookie"))
	}
	token, _ := testserver.Doc(t, body).Find(`input[name="_csrf"]`).Attr("value")
	cookie := "__Host-radpass_csrf=" + cookieValue(csrfLine)
	form := url.Values{"_csrf": {token}, "username": {"ann"}, "password": {testserver.Password}}
	res, body = testserver.Raw(t, http.MethodPost, srv.URL+"/staff/signin", cookie, form, "Origin", public)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in over https: %d\n%s", res.StatusCode, body)
	}
	sess := setCookie(res, "__Host-"+sessionCookie)
	if sess == "" {
		t.Fatalf("no __Host- session cookie: %v", res.Header.Values("Set-Cookie"))
	}
	for name, line := range map[string]string{"session": sess, "csrf": csrfLine} {
		low := strings.ToLower(line)
		for _, want := range []string{"secure", "httponly", "samesite=lax", "path=/"} {
			if !strings.Contains(low, want) {
				t.Errorf("%s cookie %q lacks %s", name, line, want)
			}
		}
		if strings.Contains(low, "domain=") {
			t.Errorf("%s cookie %q: a __Host- cookie must not name a Domain", name, line)
		}
	}
	if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS over https: %q", hsts)
	}
	cookie += "; __Host-" + sessionCookie + "=" + cookieValue(sess)
	if res, body := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/", cookie, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("study list with the https cookies: %d\n%s", res.StatusCode, body)
	}
	// The un-prefixed name opens nothing on an https deployment.
	if res, body := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/", sessionCookie+"="+cookieValue(sess), nil); res.StatusCode == http.StatusOK {
		t.Fatalf("un-prefixed cookie accepted over https\n%s", body)
	}
}

func TestSessionIDRotatesAtSignIn(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	u, _ := url.Parse(srv.URL)

	// An attacker plants a session id before the victim signs in.
	planted := strings.Repeat("A", 43)
	victim := srv.Client(t)
	victim.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	victim.SignIn("ann", testserver.Password)
	first := victim.Cookie(sessionCookie).Value
	if first == planted {
		t.Fatal("the planted session id survived sign-in")
	}
	attacker := srv.Client(t)
	attacker.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	res, body := attacker.Get("/staff/")
	expectSignInRedirect(t, res, body)

	// Signing in again (an existing session) also gets a new id; the old one dies.
	victim.SignIn("ann", testserver.Password)
	second := victim.Cookie(sessionCookie).Value
	if second == first {
		t.Fatal("the session id did not change at the second sign-in")
	}
	res, body = testserver.Raw(t, http.MethodGet, srv.URL+"/staff/", sessionCookie+"="+first, nil)
	expectSignInRedirect(t, res, body)
	if n := countSessions(t, srv); n != 1 {
		t.Fatalf("%d session rows, want 1 (the old one deleted)", n)
	}
	if res, _ := victim.Get("/staff/"); res.StatusCode != http.StatusOK {
		t.Fatalf("the new session does not work: %d", res.StatusCode)
	}
}

// The sessions table holds only an HMAC of the id: a dump opens nothing.
func TestSessionIDStoredOnlyAsHMAC(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	id := c.Cookie(sessionCookie).Value
	var leaks int
	err := srv.DB.NewRaw(`SELECT count(*) FROM sessions WHERE position(convert_to(?0, 'UTF8') IN id_hash) > 0
		OR position(convert_to(?0, 'UTF8') IN data) > 0 OR encode(id_hash, 'hex') LIKE '%' || ?0 || '%'
		OR encode(id_hash, 'base64') LIKE '%' || ?0 || '%'`, id).Scan(context.Background(), &leaks)
	if err != nil {
		t.Fatal(err)
	}
	if leaks != 0 {
		t.Fatalf("the session id appears in the sessions table")
	}
	// A row copied from a dump into a cookie does not sign anyone in.
	var hash []byte
	if err := srv.DB.NewRaw(`SELECT id_hash FROM sessions`).Scan(context.Background(), &hash); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{hex.EncodeToString(hash), base64.RawURLEncoding.EncodeToString(hash)} {
		res, body := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/", sessionCookie+"="+v, nil)
		expectSignInRedirect(t, res, body)
	}
}

// Idle (30 min) and absolute (12 h) limits hold on the server whatever the
// browser keeps: the rows' times are moved back as if time had passed.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		update string
		alive  bool
	}{
		{"idle 29 minutes", `UPDATE sessions SET last_seen_at = now() - interval '29 minutes'`, true},
		{"idle 31 minutes", `UPDATE sessions SET last_seen_at = now() - interval '31 minutes'`, false},
		{"11 hours old and active", `UPDATE sessions SET created_at = now() - interval '11 hours', expires_at = now() + interval '1 hour'`, true},
		{"past the 12 hour limit though active", `UPDATE sessions SET created_at = now() - interval '12 hours 1 second', expires_at = now() - interval '1 second'`, false},
	}
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec(t, srv, `DELETE FROM sessions`)
			c := srv.Client(t)
			c.SignIn("ann", testserver.Password)
			exec(t, srv, tt.update)
			res, body := c.Get("/staff/")
			if tt.alive {
				if res.StatusCode != http.StatusOK {
					t.Fatalf("session ended early: %d", res.StatusCode)
				}
				var fresh bool
				if err := srv.DB.NewRaw(`SELECT last_seen_at > now() - interval '1 minute' FROM sessions`).Scan(context.Background(), &fresh); err != nil || !fresh {
					t.Fatalf("the request did not refresh last_seen_at (%v)", err)
				}
				return
			}
			expectSignInRedirect(t, res, body)
		})
	}
	// The expected default limits are what the configuration says.
	if srv.Config.IdleTimeout.Minutes() != 30 || srv.Config.MaxAge.Hours() != 12 {
		t.Fatalf("defaults are %v idle, %v absolute", srv.Config.IdleTimeout, srv.Config.MaxAge)
	}
}

func TestDisabledUserIsSignedOutOnNextRequest(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	old := c.Cookie(sessionCookie).Value
	exec(t, srv, `UPDATE users SET disabled = true WHERE id = ?`, u.ID)
	res, body := c.Get("/staff/")
	expectSignInRedirect(t, res, body)
	if n := countSessions(t, srv); n != 0 {
		t.Fatalf("%d session rows left for a disabled user", n)
	}
	// Enabling the account again does not bring the old session back.
	exec(t, srv, `UPDATE users SET disabled = false WHERE id = ?`, u.ID)
	res, body = testserver.Raw(t, http.MethodGet, srv.URL+"/staff/", sessionCookie+"="+old, nil)
	expectSignInRedirect(t, res, body)
	// ... and a fresh sign-in in the same browser works.
	c.SignIn("ann", testserver.Password)
	if res, _ := c.Get("/staff/"); res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in after re-enabling: %d", res.StatusCode)
	}
}

// htmx requests without a session are sent to the sign-in page by
// HX-Redirect, coming back afterwards to the page (not the fragment).
func TestExpiredSessionUnderHTMX(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	res, _ := c.Get("/staff/?q=smith", "HX-Request", "true", "HX-Current-URL", srv.URL+"/staff/?q=smith&page=2")
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("htmx GET without session: %d, want 204", res.StatusCode)
	}
	loc := res.Header.Get("HX-Redirect")
	want := "/staff/signin?next=" + url.QueryEscape("/staff/?q=smith&page=2")
	if loc != want {
		t.Fatalf("HX-Redirect %q, want %q", loc, want)
	}
	// A state change without a session: 401 and the browser goes to sign in.
	res, _ = c.PostForm("/staff/nothing-here", nil, "HX-Request", "true")
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("HX-Redirect") != "/staff/signin" {
		t.Fatalf("htmx POST to a protected path without session: %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	// Without htmx the same POST is a translated 401 page.
	res, body := c.PostForm("/staff/nothing-here", nil, "Accept-Language", "en")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Please sign in first.") {
		t.Fatalf("plain POST without session: %d\n%s", res.StatusCode, body)
	}
}

// The one rule of staff scoping; the study list and detail tests check the
// HTTP side (another department's study answers 404).
func TestCanSeeDepartment(t *testing.T) {
	one, two := int64(1), int64(2)
	tests := []struct {
		name string
		user database.User
		dept int64
		want bool
	}{
		{"staff, own department", database.User{Role: database.RoleStaff, DepartmentID: &one}, 1, true},
		{"staff, other department", database.User{Role: database.RoleStaff, DepartmentID: &one}, 2, false},
		{"admin, own department", database.User{Role: database.RoleAdmin, DepartmentID: &two}, 2, true},
		{"admin, other department", database.User{Role: database.RoleAdmin, DepartmentID: &two}, 1, false},
		{"staff without department", database.User{Role: database.RoleStaff}, 1, false},
		{"service desk, any department", database.User{Role: database.RoleServiceDesk}, 2, true},
		{"service desk, another", database.User{Role: database.RoleServiceDesk}, 99, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.user.CanSeeDepartment(tt.dept); got != tt.want {
				t.Fatalf("CanSeeDepartment(%d) = %v, want %v", tt.dept, got, tt.want)
			}
		})
	}
}

// A browser still holding a disabled user's session signs in as someone
// else in one request: the old session ends and the new one is stored (not
// deleted along with the old one).
func TestSignInOverADisabledUsersSession(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	olga := testserver.MustUser(t, srv.DB, "olga", database.RoleStaff, d)
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	c := srv.Client(t)
	c.SignIn("olga", testserver.Password)
	c.GetDoc("/staff/", http.StatusOK)
	exec(t, srv, `UPDATE users SET disabled = true WHERE id = ?`, olga.ID)
	res, body := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", res.StatusCode, body)
	}
	doc := c.GetDoc("/staff/", http.StatusOK)
	if got := doc.Find(`[data-testid="user"]`).Text(); got != "Ann" {
		t.Fatalf("signed in as %q, want Ann", got)
	}
	if n := countSessions(t, srv); n != 1 {
		t.Fatalf("%d sessions, want only ann's", n)
	}
}
