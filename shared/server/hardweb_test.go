package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Only asset files are served under /static/ (the package's embed.go is not),
// and the request id in the response is the server's, not the client's.
func TestStaticAssetsOnlyAndServerRequestID(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	for path, want := range map[string]int{
		"/static/embed.go":   http.StatusNotFound,
		"/static/app.css":    http.StatusOK,
		"/static/app.js":     http.StatusOK,
		"/static/../go.mod":  http.StatusNotFound,
		"/static/EMBED.GO":   http.StatusNotFound,
		"/static/vendor/":    http.StatusNotFound,
		"/static/embed.go/x": http.StatusNotFound,
	} {
		res, body := c.Get(path)
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
		if res.StatusCode == http.StatusOK && len(body) > 0 && body[:min(len(body), 7)] == "package" {
			t.Errorf("GET %s served Go source", path)
		}
	}
	res, _ := c.Get("/healthz", "X-Request-Id", "forged-id-1")
	if id := res.Header.Get("X-Request-Id"); id == "" || id == "forged-id-1" {
		t.Fatalf("response request id %q: the client's was taken", id)
	}
}

// A NUL byte or invalid UTF-8 in a form field is refused with a translated
// 422 page naming the field, and nothing reaches the audit trail.
func TestFormTextRefusedAndNotAudited(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	c.Get("/staff/signin")
	for _, tt := range []struct {
		lang, username, want string
	}{
		{"en", "ann\x00", "field username"},
		{"nl", "\xff\xfeann", "veld username"},
	} {
		res, body := c.PostForm("/staff/signin", url.Values{"username": {tt.username}, "password": {"wrong-password"}}, "Accept-Language", tt.lang)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%q: status %d, want 422", tt.username, res.StatusCode)
		}
		if msg := testserver.Doc(t, body).Find("main").Text(); !strings.Contains(msg, tt.want) {
			t.Fatalf("%s page does not name the field (%q):\n%.400s", tt.lang, tt.want, msg)
		}
	}
	var n int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events`).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d audit rows written for refused forms", n)
	}
}

// The CSRF token is bound to the staff session: a token from before sign-in
// (or one planted in the browser) is refused once signed in, another user's
// token is refused, the signed-in page hands out a new one that works, and
// `Origin: null` is refused whatever the token.
func TestCSRFBoundToSessionAndNullOrigin(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	_, other := srv.SignedIn(t, "bob", database.RoleStaff, d)
	c := srv.Client(t)
	c.Get("/staff/signin")
	before := c.CSRF
	c.SignIn("ann", testserver.Password)
	after := c.CSRF
	if after == "" || after == before {
		t.Fatalf("the token was not renewed at sign-in (%q)", after)
	}
	session := c.Cookie("radpass_staff").Value
	post := func(token, origin string) int {
		cookie := "radpass_staff=" + session + "; radpass_csrf=" + token
		res, _ := testserver.Raw(t, http.MethodPost, srv.URL+"/language", cookie,
			url.Values{"lang": {"nl"}, "back": {"/staff/"}, "_csrf": {token}}, "Origin", origin)
		return res.StatusCode
	}
	for _, tt := range []struct {
		name, token, origin string
		want                int
	}{
		{"token from before sign-in", before, srv.URL, http.StatusForbidden},
		{"another user's token", other.CSRF, srv.URL, http.StatusForbidden},
		{"Origin: null", after, "null", http.StatusForbidden},
		{"the session's token", after, srv.URL, http.StatusSeeOther},
	} {
		if got := post(tt.token, tt.origin); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
}
