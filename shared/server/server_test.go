package server_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/views"
)

// Every response carries the security headers, errors and static files included.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	c.Get("/staff/signin")
	requests := []struct {
		name string
		do   func() *http.Response
	}{
		{"home", func() *http.Response { r, _ := c.Get("/"); return r }},
		{"sign-in page", func() *http.Response { r, _ := c.Get("/staff/signin"); return r }},
		{"healthz", func() *http.Response { r, _ := c.Get("/healthz"); return r }},
		{"readyz", func() *http.Response { r, _ := c.Get("/readyz"); return r }},
		{"static css", func() *http.Response { r, _ := c.Get("/static/app.css"); return r }},
		{"static js", func() *http.Response { r, _ := c.Get("/static/app.js"); return r }},
		{"404", func() *http.Response { r, _ := c.Get("/no/such/page"); return r }},
		{"redirect", func() *http.Response { r, _ := c.Get("/staff/"); return r }},
		{"csrf 403", func() *http.Response {
			r, _ := c.PostForm("/language", url.Values{"lang": {"nl"}, "_csrf": {"bad"}})
			return r
		}},
		{"422", func() *http.Response { r, _ := c.PostForm("/language", url.Values{"lang": {"xx"}}); return r }},
	}
	for _, rq := range requests {
		t.Run(rq.name, func(t *testing.T) {
			h := rq.do().Header
			csp := h.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %s", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline code: %q", csp)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if got := h.Get("Referrer-Policy"); got != "same-origin" {
				t.Errorf("Referrer-Policy %q", got)
			}
			if got := h.Get("X-Frame-Options"); got != "DENY" {
				t.Errorf("X-Frame-Options %q", got)
			}
			if h.Get("Strict-Transport-Security") != "" {
				t.Errorf("HSTS on plain http")
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		res, body := c.Get(p)
		if res.StatusCode != http.StatusOK || body == "" {
			t.Fatalf("%s: %d %q", p, res.StatusCode, body)
		}
	}
	// The database goes away: the process is still up, but not ready, and
	// pages answer a generic 500 that shows no internal text.
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	c.SignIn("ann", testserver.Password)
	if err := srv.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.Get("/healthz"); res.StatusCode != http.StatusOK {
		t.Fatalf("healthz without database: %d", res.StatusCode)
	}
	if res, _ := c.Get("/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz without database: %d, want 503", res.StatusCode)
	}
	for _, htmx := range []bool{false, true} {
		var h []string
		if htmx {
			h = []string{"HX-Request", "true"}
		}
		res, body := c.Get("/staff/", append(h, "Accept-Language", "en")...)
		if res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("htmx=%v: status %d, want 500", htmx, res.StatusCode)
		}
		low := strings.ToLower(body)
		for _, leak := range []string{"sql", "database", "closed", "pgdriver", "error:", "goroutine", ".go:"} {
			if strings.Contains(low, leak) {
				t.Errorf("htmx=%v: 500 page leaks %q:\n%s", htmx, leak, body)
			}
		}
		if !strings.Contains(body, "Something went wrong on our side") {
			t.Errorf("htmx=%v: 500 page lacks the generic message:\n%s", htmx, body)
		}
		if htmx != !strings.Contains(body, "<html") {
			t.Errorf("htmx=%v: full page is %v", htmx, strings.Contains(body, "<html"))
		}
	}
}

// Errors are a full page for normal requests and a fragment aimed at the
// alert area for htmx, always translated.
func TestErrorPagesFullAndPartial(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)

	res, body := c.Get("/staff/no-such-page", "Accept-Language", "de")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("404: %d", res.StatusCode)
	}
	doc := testserver.Doc(t, body)
	if doc.Find("html").Length() != 1 || doc.Find(`.error-page[data-status="404"]`).Length() != 1 {
		t.Fatalf("404 is not a full error page:\n%s", body)
	}
	if doc.Find(`[data-testid="signout"]`).Length() != 1 {
		t.Fatal("the 404 page of a signed-in user lacks the staff header")
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("error page Cache-Control %q", res.Header.Get("Cache-Control"))
	}

	res, body = c.Get("/staff/no-such-page", "HX-Request", "true")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("htmx 404: %d", res.StatusCode)
	}
	if strings.Contains(body, "<html") || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("htmx 404 is not a fragment:\n%s", body)
	}
	if res.Header.Get("HX-Retarget") != "#alerts" || res.Header.Get("HX-Reswap") != "innerHTML" {
		t.Fatalf("htmx 404 retarget %q reswap %q", res.Header.Get("HX-Retarget"), res.Header.Get("HX-Reswap"))
	}
	if !strings.Contains(res.Header.Get("Vary"), "HX-Request") {
		t.Fatalf("no Vary: HX-Request on a partial (%q)", res.Header.Get("Vary"))
	}

	// A boosted navigation wants the whole page.
	res, body = c.Get("/staff/no-such-page", "HX-Request", "true", "HX-Boosted", "true")
	if !strings.Contains(body, "<html") || res.Header.Get("HX-Retarget") != "" {
		t.Fatalf("boosted 404 is not a full page")
	}

	// The public 404 uses the patient layout, in the browser's language.
	anon := srv.Client(t)
	res, body = anon.Get("/nothing", "Accept-Language", "fr-BE,fr;q=0.9")
	doc = testserver.Doc(t, body)
	if res.StatusCode != http.StatusNotFound || doc.Find(`html[lang="fr"]`).Length() != 1 {
		t.Fatalf("anonymous 404 in French: %d\n%s", res.StatusCode, body)
	}
	if doc.Find(`[data-testid="signout"]`).Length() != 0 {
		t.Fatal("anonymous 404 shows a sign-out button")
	}
}

func TestCSRFRejections(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	c.GetDoc("/staff/", http.StatusOK)
	good := c.CSRF
	// A token differing in its first character (a token may start with x).
	flip := "x"
	if good[0] == 'x' {
		flip = "y"
	}

	language := func() string {
		var l string
		if err := srv.DB.NewRaw(`SELECT language FROM users WHERE id = ?`, u.ID).Scan(context.Background(), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	tests := []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"missing token", url.Values{"lang": {"nl"}, "_csrf": {""}}, nil},
		{"wrong token", url.Values{"lang": {"nl"}, "_csrf": {flip + good[1:]}}, nil},
		{"token of another signature", url.Values{"lang": {"nl"}, "_csrf": {good[:len(good)-4] + "AAAA"}}, nil},
		{"cross-origin", url.Values{"lang": {"nl"}, "_csrf": {good}}, []string{"Origin", "https://evil.example"}},
		{"cross-origin htmx", url.Values{"lang": {"nl"}}, []string{"Origin", "http://evil.example", "X-Csrf-Token", good}},
		{"null-less lookalike origin", url.Values{"lang": {"nl"}, "_csrf": {good}}, []string{"Origin", srv.URL + ".evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := c.PostForm("/language", tt.form, append(tt.header, "Accept-Language", "nl")...)
			if res.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", res.StatusCode)
			}
			if !strings.Contains(body, "Uw formulier is verlopen") {
				t.Fatalf("403 page is not the translated CSRF message:\n%s", body)
			}
			if l := language(); l != "" {
				t.Fatalf("language changed to %q by a refused request", l)
			}
		})
	}
	// A GET never changes state.
	if res, _ := c.Get("/language?lang=nl&back=/staff/"); res.StatusCode == http.StatusSeeOther {
		t.Fatalf("GET /language acted: %d", res.StatusCode)
	}
	if l := language(); l != "" {
		t.Fatalf("GET changed the language to %q", l)
	}
	// The same POST with a good token and header works (htmx path too).
	res, _ := c.PostForm("/language", url.Values{"lang": {"fr"}}, "X-Csrf-Token", good, "HX-Request", "true")
	if res.StatusCode != http.StatusNoContent || res.Header.Get("HX-Redirect") != "/" {
		t.Fatalf("htmx language switch: %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	if l := language(); l != "fr" {
		t.Fatalf("language %q after a valid switch", l)
	}
}

// Language: the user's setting, else the cookie, else Accept-Language.
func TestLanguageResolution(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	lang := func(c *testserver.Client, path string, h ...string) string {
		t.Helper()
		_, body := c.Get(path, h...)
		v, _ := testserver.Doc(t, body).Find("html").Attr("lang")
		return v
	}
	anon := srv.Client(t)
	if got := lang(anon, "/staff/signin", "Accept-Language", "de-DE,de;q=0.9,en;q=0.5"); got != "de" {
		t.Fatalf("Accept-Language de gives %q", got)
	}
	if got := lang(anon, "/staff/signin", "Accept-Language", "ja"); got != "en" {
		t.Fatalf("unsupported Accept-Language gives %q", got)
	}
	// Switching before sign-in sets the cookie, which beats Accept-Language.
	anon.Get("/staff/signin")
	res, _ := anon.PostForm("/language", url.Values{"lang": {"nl"}, "back": {"/staff/signin"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/signin" {
		t.Fatalf("language switch: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if ck := anon.Cookie("radpass_lang"); ck == nil || ck.Value != "nl" {
		t.Fatalf("language cookie %v", ck)
	}
	if got := lang(anon, "/staff/signin", "Accept-Language", "de"); got != "nl" {
		t.Fatalf("cookie nl with Accept-Language de gives %q", got)
	}
	// Signed in, the switch is stored on the user and beats the cookie.
	anon.SignIn("ann", testserver.Password)
	anon.GetDoc("/staff/", http.StatusOK)
	res, _ = anon.PostForm("/language", url.Values{"lang": {"de"}, "back": {"/staff/"}})
	if res.Header.Get("Location") != "/staff/" {
		t.Fatalf("back to %q", res.Header.Get("Location"))
	}
	var stored string
	if err := srv.DB.NewRaw(`SELECT language FROM users WHERE username = 'ann'`).Scan(context.Background(), &stored); err != nil || stored != "de" {
		t.Fatalf("stored language %q (%v)", stored, err)
	}
	u, _ := url.Parse(srv.URL)
	anon.Jar.SetCookies(u, []*http.Cookie{{Name: "radpass_lang", Value: "fr", Path: "/"}})
	doc := anon.GetDoc("/staff/", http.StatusOK)
	if got, _ := doc.Find("html").Attr("lang"); got != "de" {
		t.Fatalf("user setting de with cookie fr gives %q", got)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="signout"]`).Text()); got != "Abmelden" {
		t.Fatalf("German sign-out button says %q", got)
	}
	// A fresh browser of the same user gets the stored language too.
	other := srv.Client(t)
	other.SignIn("ann", testserver.Password)
	if got := lang(other, "/staff/", "Accept-Language", "fr"); got != "de" {
		t.Fatalf("stored setting on another browser gives %q", got)
	}
}

// The language switch only ever sends the browser back into this site.
func TestLanguageBackStaysOnSite(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	c.Get("/")
	tests := []struct{ back, want string }{
		{"/staff/signin", "/staff/signin"},
		{"/p/viewer?x=1", "/p/viewer?x=1"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.back, func(t *testing.T) {
			res, _ := c.PostForm("/language", url.Values{"lang": {"en"}, "back": {tt.back}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := res.Header.Get("Location"); got != tt.want {
				t.Fatalf("redirect to %q, want %q", got, tt.want)
			}
		})
	}
	// An unknown language is a translated 422, not a switch.
	res, body := c.PostForm("/language", url.Values{"lang": {"xx"}, "back": {"/"}}, "Accept-Language", "en")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This language is not available.") {
		t.Fatalf("unknown language: %d\n%s", res.StatusCode, body)
	}
}

func TestStudyListIsNotCached(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	for _, h := range [][]string{nil, {"HX-Request", "true"}} {
		res, _ := c.Get("/staff/", h...)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("study list %v: %d", h, res.StatusCode)
		}
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Fatalf("study list %v: Cache-Control %q", h, got)
		}
		if !strings.Contains(res.Header.Get("Vary"), "HX-Request") {
			t.Fatalf("study list %v: Vary %q", h, res.Header.Get("Vary"))
		}
	}
}

// A page is always given a CSRF token with at least 12 hours to live, so a
// form loaded late in a 12-hour session still posts; a token past its 24
// hours is refused.
func TestCSRFTokenRenewal(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	issued := func(ago time.Duration) string {
		tok := &web.CSRFTokens{Key: srv.Config.SecretKey, MaxAge: 24 * time.Hour, Now: func() time.Time { return time.Now().Add(-ago) }}
		return tok.Generate()
	}
	pageToken := func(cookie string) (string, string) {
		t.Helper()
		res, body := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/signin", "radpass_csrf="+cookie, nil)
		v, _ := testserver.Doc(t, body).Find(`input[name="_csrf"]`).Attr("value")
		return v, testserver.ResponseCookie(res, "radpass_csrf")
	}
	young := issued(time.Hour)
	if got, set := pageToken(young); got != young || set != young {
		t.Fatalf("a 1-hour-old token was not reused: page %q cookie %q", got, set)
	}
	old := issued(13 * time.Hour)
	// An htmx fragment keeps the token the page already holds.
	res, _ := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/signin", "radpass_csrf="+old, nil, "HX-Request", "true")
	for _, ck := range res.Cookies() {
		if ck.Name == "radpass_csrf" && ck.Value != old {
			t.Fatal("an htmx request replaced the page's CSRF token")
		}
	}
	got, set := pageToken(old)
	if got == old || set != got || got == "" {
		t.Fatalf("a 13-hour-old token was handed out again: page %q cookie %q", got, set)
	}
	post := func(token string) int {
		t.Helper()
		res, _ := testserver.Raw(t, http.MethodPost, srv.URL+"/language", "radpass_csrf="+token,
			url.Values{"lang": {"nl"}, "_csrf": {token}}, "Origin", srv.URL)
		return res.StatusCode
	}
	if s := post(old); s != http.StatusSeeOther {
		t.Fatalf("a form with a 13-hour-old token: %d", s)
	}
	if s := post(issued(25 * time.Hour)); s != http.StatusForbidden {
		t.Fatalf("a 25-hour-old token: %d, want 403", s)
	}
}

// A refused form of a signed-in user is explained in the user's language,
// inside the staff layout.
func TestCSRFRefusalInUsersLanguage(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	if _, err := srv.DB.NewUpdate().Model(u).Set("language = 'de'").WherePK().Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	res, body := c.PostForm("/language", url.Values{"lang": {"fr"}, "_csrf": {"forged"}}, "Accept-Language", "en")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := testserver.Doc(t, body)
	if l, _ := doc.Find("html").Attr("lang"); l != "de" {
		t.Fatalf("403 page in %q, want the user's de", l)
	}
	if doc.Find(`[data-testid="signout"]`).Length() != 1 {
		t.Fatal("403 page of a signed-in user lacks the staff header")
	}
}

var scriptTag = regexp.MustCompile(`(?i)<script[^>]*>`)

// The CSP forbids inline code; no template may rely on it (it would silently
// not work in the browser).
func TestViewsHaveNoInlineCode(t *testing.T) {
	bad := []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script(\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)<style[\s>]`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=\s*["']`),
		regexp.MustCompile(`(?i)href\s*=\s*["']\s*javascript:`),
	}
	var files int
	err := fs.WalkDir(views.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		files++
		b, err := fs.ReadFile(views.FS, p)
		if err != nil {
			return err
		}
		for _, tag := range scriptTag.FindAll(b, -1) {
			if !strings.Contains(strings.ToLower(string(tag)), "src=") {
				t.Errorf("%s: inline script %q", p, tag)
			}
		}
		for _, re := range bad {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s: inline code %q (CSP forbids it; use static/*.js and data-* attributes)", p, b[loc[0]:min(loc[1]+20, len(b))])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d templates found", files)
	}
}

// Behind a trusted reverse proxy the client's address comes from X-Real-IP
// (which the proxy sets) and never from the client-written left end of
// X-Forwarded-For; without trusted proxies neither header is believed.
func TestClientIPBehindProxy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies []string
		want    string
	}{
		{"no trusted proxy", nil, "127.0.0.1"},
		{"loopback proxy trusted", []string{"127.0.0.0/8"}, "203.0.113.7"},
		{"another proxy trusted", []string{"192.0.2.1"}, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := testserver.New(t, func(c *config.Config) { c.TrustedProxies = tt.proxies })
			d := testserver.MustDepartment(t, srv.DB, "NORTH")
			testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
			c := srv.Client(t)
			c.Get("/staff/signin")
			res, _ := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}},
				"X-Real-Ip", "203.0.113.7", "X-Forwarded-For", "6.6.6.6, 203.0.113.7")
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", res.StatusCode)
			}
			var ip string
			if err := srv.DB.NewRaw(`SELECT ip FROM audit_events WHERE action = 'staff.signin'`).Scan(context.Background(), &ip); err != nil {
				t.Fatal(err)
			}
			if ip != tt.want {
				t.Fatalf("audited IP %q, want %q", ip, tt.want)
			}
		})
	}
}

// A TLS-terminating trusted proxy says https in X-Forwarded-Proto: the
// browser's https Origin then matches the request itself.
func TestHTTPSOriginBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	c := srv.Client(t)
	c.Get("/")
	host := strings.TrimPrefix(srv.URL, "http://")
	res, body := c.PostForm("/language", url.Values{"lang": {"de"}, "back": {"/"}}, "Origin", "https://"+host, "X-Forwarded-Proto", "https")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("https origin via a trusted proxy: %d\n%s", res.StatusCode, body)
	}
	// A client that is not the proxy cannot claim https for itself.
	plain := testserver.New(t)
	pc := plain.Client(t)
	pc.Get("/")
	res, _ = pc.PostForm("/language", url.Values{"lang": {"de"}}, "Origin", "https://"+strings.TrimPrefix(plain.URL, "http://"), "X-Forwarded-Proto", "https")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("untrusted X-Forwarded-Proto believed: %d", res.StatusCode)
	}
}

// The language switch brings the user back to the same page, query included.
func TestLanguageSwitchKeepsTheQuery(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	doc := c.GetDoc("/staff/?q=jansen&page=2", http.StatusOK)
	back, _ := doc.Find(`form[action="/language"] input[name="back"]`).Attr("value")
	if back != "/staff/?q=jansen&page=2" {
		t.Fatalf("back %q", back)
	}
	res, _ := c.PostForm("/language", url.Values{"lang": {"nl"}, "back": {back}})
	if res.Header.Get("Location") != back {
		t.Fatalf("switch returns to %q", res.Header.Get("Location"))
	}
}

// The page refusing a forged form is itself usable: its forms (sign-out,
// language) carry a fresh valid token.
func TestCSRFRefusalPageFormsWork(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	res, body := c.PostForm("/language", url.Values{"lang": {"fr"}, "_csrf": {"forged"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged: %d", res.StatusCode)
	}
	tok, _ := testserver.Doc(t, body).Find(`form[action="/staff/signout"] input[name="_csrf"]`).Attr("value")
	if tok == "" || tok == "forged" {
		t.Fatalf("the 403 page's sign-out form has token %q", tok)
	}
	res, body = c.PostForm("/staff/signout", url.Values{"_csrf": {tok}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out from the 403 page: %d\n%s", res.StatusCode, body)
	}
}

// Another site's forged form must not replace the user's CSRF cookie (that
// would break the forms of every page the user has open).
func TestCrossSiteRefusalKeepsTheCookie(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	res, _ := testserver.Raw(t, http.MethodGet, srv.URL+"/", "", nil)
	cookie := testserver.ResponseCookie(res, "radpass_csrf")
	if cookie == "" {
		t.Fatalf("the first page (%d) sets no CSRF cookie", res.StatusCode)
	}
	form := url.Values{"lang": {"fr"}, "_csrf": {"forged"}}
	for _, h := range [][]string{
		{"Origin", "https://evil.example"},
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
	} {
		// SameSite=Lax: a cross-site POST arrives without the cookie.
		res, _ := testserver.Raw(t, http.MethodPost, srv.URL+"/language", "", form, h...)
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%v: %d", h, res.StatusCode)
		}
		for _, ck := range res.Cookies() {
			if ck.Name == "radpass_csrf" && ck.Value != cookie {
				t.Fatalf("%v: a cross-site request replaced the CSRF cookie", h)
			}
		}
	}
}
