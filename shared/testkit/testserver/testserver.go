// Package testserver runs the real RadPass app on a loopback port against a
// fresh test database, with an HTTP client that keeps cookies and CSRF tokens
// like a browser, plus Must* fixtures for departments and users.
package testserver

import (
	"context"
	"github.com/alexedwards/argon2id"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/web"
)

// Server is a running RadPass on 127.0.0.1.
type Server struct {
	URL    string
	DB     *bun.DB
	DSN    string
	App    *server.App
	Config *config.Config
}

// Option adjusts the configuration before the server starts.
type Option func(*config.Config)

// New starts the app on a free loopback port with its own database.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return start(tb, nil, opts)
}

// start runs the app on ln (wrapped by wrap when given), after adjust.
func start(tb testing.TB, adjust func(*server.App, net.Listener) net.Listener, opts []Option) *Server {
	tb.Helper()
	db, dsn := testdb.NewWithURL(tb)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "RADPASS_DEV":
			return "1"
		case "RADPASS_DATABASE_URL":
			return dsn
		case "RADPASS_ADDR":
			return addr
		case "RADPASS_DATA_DIR":
			return tb.TempDir()
		}
		return ""
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range opts {
		o(cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := server.New(server.Deps{Config: cfg, DB: db, Log: log})
	if err != nil {
		tb.Fatal(err)
	}
	if adjust != nil {
		ln = adjust(a, ln) // before the first connection
	}
	go func() { _ = a.Fiber.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Fiber.ShutdownWithContext(ctx)
	})
	return &Server{URL: "http://" + addr, DB: db, DSN: dsn, App: a, Config: cfg}
}

// Client is a cookie-keeping HTTP client that does not follow redirects, so
// tests see the 303s themselves. It is not safe for concurrent use: every
// request (Do) rewrites CSRF from the page it got. Give each goroutine its
// own Client (srv.Client), signed in on its own.
type Client struct {
	tb   testing.TB
	srv  *Server
	HTTP *http.Client
	Jar  *cookiejar.Jar
	// CSRF is the token of the last page fetched (the hidden _csrf field).
	CSRF string
}

// Client returns a fresh client (a new browser, no cookies).
func (s *Server) Client(tb testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{tb: tb, srv: s, Jar: jar, HTTP: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Do sends req and returns the response with its body read.
func (c *Client) Do(req *http.Request) (*http.Response, string) {
	c.tb.Helper()
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.tb.Fatal(err)
	}
	if doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b))); err == nil {
		if v, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value"); ok && v != "" {
			c.CSRF = v
		}
	}
	// A response that started or ended a session names the token bound to
	// it (static/app.js puts it into the page, a browser's next page has it).
	if v := res.Header.Get(web.HeaderCSRFToken); v != "" {
		c.CSRF = v
	}
	return res, string(b)
}

// Get fetches path.
func (c *Client) Get(path string, header ...string) (*http.Response, string) {
	c.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+path, nil)
	if err != nil {
		c.tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.Do(req)
}

// GetDoc fetches path and parses it; it fails the test unless the status is want.
func (c *Client) GetDoc(path string, want int) *goquery.Document {
	c.tb.Helper()
	res, body := c.Get(path)
	if res.StatusCode != want {
		c.tb.Fatalf("GET %s: status %d, want %d\n%s", path, res.StatusCode, want, body)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		c.tb.Fatal(err)
	}
	return doc
}

// PostForm posts a form with the current CSRF token (unless the form sets
// _csrf itself) and a same-origin Origin header, as a browser would.
func (c *Client) PostForm(path string, form url.Values, header ...string) (*http.Response, string) {
	c.tb.Helper()
	// Work on a copy: a caller may reuse its form with another client.
	f := url.Values{}
	for k, v := range form {
		f[k] = append([]string(nil), v...)
	}
	form = f
	if _, ok := form["_csrf"]; !ok {
		if c.CSRF == "" {
			c.Get("/staff/signin") // any page hands out a token
		}
		form.Set("_csrf", c.CSRF)
	}
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.srv.URL)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.Do(req)
}

// Doc parses an HTML body.
func Doc(tb testing.TB, body string) *goquery.Document {
	tb.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

// SignIn signs the client in and fails the test unless it worked.
func (c *Client) SignIn(username, password string) {
	c.tb.Helper()
	c.Get("/staff/signin")
	res, body := c.PostForm("/staff/signin", url.Values{"username": {username}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		c.tb.Fatalf("sign-in as %s: status %d\n%s", username, res.StatusCode, body)
	}
	// Follow the redirect as a browser does: CSRF tokens are bound to the
	// session, so the signed-in page hands out the token forms must send.
	c.Get(res.Header.Get("Location"))
}

// Cookie returns the named cookie the client holds for the server, or nil.
func (c *Client) Cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// LightHash are the argon2id parameters of the test users' password hash.
var LightHash = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// UseLightHashes makes every password hash of this test binary light:
// passwords set through the app (user create, reset, change) and the dummy
// hash of unknown names. Call it from TestMain, before any test runs. The
// production parameters cost about a second per hash under -race on a busy
// machine and prove nothing more in handler tests, which count hashes, slots
// and refusals: the slot count stays the same (min(memory budget / hash
// memory, CPUs) is the CPU count either way), and what the production
// parameters bound (memory, hash slots) is tested in shared/auth with them.
func UseLightHashes() { auth.Params = LightHash }

// Password is the password every Must* user gets.
const Password = "correct-horse-battery"

var (
	hashOnce     sync.Once
	passwordHash string
	hashErr      error
)

// MustDepartment creates a department with code.
func MustDepartment(tb testing.TB, db bun.IDB, code string) *database.Department {
	tb.Helper()
	d := &database.Department{Code: code, Name: "Radiology " + code, Address: "1 Test Street", Phone: "+32 2 000 00 00",
		Contact: "the radiology desk", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	if _, err := db.NewInsert().Model(d).Exec(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return d
}

// MustUser creates an enabled user with Password; dept is nil for the service desk.
func MustUser(tb testing.TB, db bun.IDB, username, role string, dept *database.Department) *database.User {
	tb.Helper()
	// One hash for every test user, made with light parameters: a sign-in
	// verifies with the parameters stored in the hash, and the production
	// ones (64 MiB, 2 passes) cost about 1 s per verify under -race. What
	// they bound (memory, hash slots) is tested in shared/auth.
	hashOnce.Do(func() { passwordHash, hashErr = argon2id.CreateHash(Password, LightHash) })
	if hashErr != nil {
		tb.Fatal(hashErr)
	}
	u := &database.User{Username: username, Role: role, PasswordHash: passwordHash, DisplayName: strings.ToUpper(username[:1]) + username[1:]}
	if dept != nil {
		u.DepartmentID = &dept.ID
	}
	if _, err := db.NewInsert().Model(u).Exec(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return u
}

// MustPatientStudy creates a patient with one study in dept and returns the study.
func MustPatientStudy(tb testing.TB, db bun.IDB, dept *database.Department, patientID, family, given string, birth *time.Time) *database.Study {
	tb.Helper()
	ctx := context.Background()
	p := new(database.Patient)
	err := db.NewSelect().Model(p).Where("department_id = ? AND patient_id = ?", dept.ID, patientID).Scan(ctx)
	if err != nil {
		p = &database.Patient{DepartmentID: dept.ID, PatientID: patientID, FamilyName: family, GivenName: given, BirthDate: birth, Sex: "F"}
		if _, err := db.NewInsert().Model(p).Exec(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	s := &database.Study{DepartmentID: dept.ID, PatientID: p.ID, StudyUID: "2.25." + randDigits(), StudyDate: &day,
		Accession: "A" + randDigits()[:8], Description: "CT thorax", Modalities: []string{"CT"}, NumSeries: 1, NumInstances: 10, ReportStatus: "none"}
	if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
		tb.Fatal(err)
	}
	s.Patient = p
	return s
}

// SignedIn creates an enabled user (MustUser) and returns a fresh client
// signed in as that user.
func (s *Server) SignedIn(tb testing.TB, username, role string, dept *database.Department) (*database.User, *Client) {
	tb.Helper()
	u := MustUser(tb, s.DB, username, role, dept)
	c := s.Client(tb)
	c.SignIn(username, Password)
	return u, c
}
