package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// tcpProxy stands between the app and PostgreSQL: down closes the port and
// cuts every connection (what the app sees when the database goes away),
// up opens the same port again (the database is back).
type tcpProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func (p *tcpProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(d, c); d.Close() }()
			go func() { _, _ = io.Copy(c, d); c.Close() }()
		}
	}()
}

func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// behindProxy runs a second app on base's database and configuration whose
// connections to PostgreSQL go through a TCP proxy the test can cut (p.down)
// and restore (p.up): an outage without stopping the shared test cluster.
func behindProxy(t *testing.T, base *testserver.Server) (*testserver.Server, *tcpProxy) {
	t.Helper()
	u, err := url.Parse(base.DSN)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{target: u.Host, addr: "127.0.0.1:0"}
	p.up(t)
	u.Host = p.addr
	db, err := database.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := server.New(server.Deps{Config: base.Config, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Fiber.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = a.Fiber.Shutdown() })
	return &testserver.Server{URL: "http://" + ln.Addr().String(), DB: db, App: a, Config: base.Config}, p
}

// While PostgreSQL cannot be reached every page that needs it answers 503
// with Retry-After and a translated "temporarily unavailable" page, in the
// staff layout for staff and the patient layout for patients; /readyz says
// 503 too. When the database is back, the same server answers normally.
func TestDatabaseOutageAnswers503(t *testing.T) {
	base := testserver.New(t)
	d := testserver.MustDepartment(t, base.DB, "NORTH")
	testserver.MustUser(t, base.DB, "ann", database.RoleStaff, d)

	srv, p := behindProxy(t, base)

	staff := srv.Client(t)
	staff.SignIn("ann", testserver.Password)
	patient := srv.Client(t)
	patient.Get("/?lang=fr")
	unknown, _ := refnum.New()
	signIn := url.Values{"ref": {unknown.Canonical()}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}, "lang": {"fr"}}

	p.down()
	check := func(who string, res *http.Response, body, lang, layout string) {
		t.Helper()
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("%s during the outage: %d, want 503", who, res.StatusCode)
		}
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Fatalf("%s: Retry-After %q", who, res.Header.Get("Retry-After"))
		}
		if msg := i18n.T(lang, "error.unavailable"); !strings.Contains(body, msg) {
			t.Fatalf("%s: the page does not say %q", who, msg)
		}
		doc := testserver.Doc(t, body)
		if got := doc.Find("body.patient").Length() == 1; got != (layout == "patient") {
			t.Fatalf("%s: page in the wrong layout (patient layout %v, want %s)", who, got, layout)
		}
	}
	for i := 0; i < 2; i++ { // the first request meets cut connections, the next a closed port
		res, body := staff.Get("/staff/")
		check("staff study list", res, body, "en", "staff")
		res, body = patient.PostForm("/p/signin", signIn)
		check("patient sign-in", res, body, "fr", "patient")
	}
	if res, _ := staff.Get("/readyz"); res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz during the outage: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}

	p.up(t) // the same port: the database is back
	if res, _ := staff.Get("/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz after the outage: %d", res.StatusCode)
	}
	if res, body := staff.Get("/staff/"); res.StatusCode != http.StatusOK {
		t.Fatalf("staff study list after the outage: %d %s", res.StatusCode, body)
	}
	if res, _ := patient.PostForm("/p/signin", signIn); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("patient sign-in after the outage: %d, want the refusal", res.StatusCode)
	}
}

// A connection whose server process ends (what a PostgreSQL stop or restart
// does to every open connection: FATAL 57P01) counts as an outage, not a
// fault: apperr.IsUnavailable, hence 503.
func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	srv := testserver.New(t)
	ctx := context.Background()
	conn, err := srv.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.ExecContext(ctx, `SELECT pg_terminate_backend(?)`, pid); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, `SELECT 1`)
	if err == nil || !apperr.IsUnavailable(err) {
		t.Fatalf("query on a terminated connection: %v, want an outage", err)
	}
	if apperr.IsUnavailable(fmt.Errorf("wrapped: %w", io.ErrShortWrite)) {
		t.Fatal("an ordinary error counted as an outage")
	}
}
