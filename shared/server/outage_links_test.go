package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A viewer link's DICOMweb answers an outage like every other route: 503
// with Retry-After (a PACS retries), never 500; an answer again when the
// database is back. Before, a stopped PostgreSQL gave 500 "internal error".
func TestViewerLinkOutageAnswers503(t *testing.T) {
	base := testserver.New(t)
	d := testserver.MustDepartment(t, base.DB, "NORTH")
	u := testserver.MustUser(t, base.DB, "ann", database.RoleStaff, d)
	birth := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	st := testserver.MustPatientStudy(t, base.DB, d, "P1", "Peeters", "An", &birth)
	_, n := base.MustBucket(t, u, []*database.Study{st}, testserver.BucketSpec{Language: "en"})

	dsn, err := url.Parse(base.DSN)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{target: dsn.Host, addr: "127.0.0.1:0"}
	p.up(t)
	dsn.Host = p.addr
	db, err := database.Open(context.Background(), dsn.String())
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
	srv := &testserver.Server{URL: "http://" + ln.Addr().String(), DB: db, App: a, Config: base.Config}

	patient := srv.Client(t)
	patient.Get("/")
	form := url.Values{"ref": {n.Canonical()}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}}
	if res, body := patient.PostForm("/p/signin", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", res.StatusCode, body)
	}
	patient.Get("/p/")
	_, body := patient.PostForm("/p/links", nil)
	path := regexp.MustCompile(`/dicomweb/l/rpv_[A-Za-z0-9_-]+`).FindString(body)
	if path == "" {
		t.Fatalf("no viewer link shown:\n%s", body)
	}
	link := srv.URL + path // this server (the page names the configured base URL)
	get := func() *http.Response {
		res, err := http.Get(link + "/studies")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	// The study has no instances yet: 204, an answer all the same.
	if res := get(); res.StatusCode != http.StatusNoContent {
		t.Fatalf("QIDO before the outage: %d", res.StatusCode)
	}
	p.down()
	for i := 0; i < 2; i++ { // cut connections, then a closed port
		res := get()
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); res.StatusCode != http.StatusServiceUnavailable || err != nil || s < 1 {
			t.Fatalf("QIDO during the outage: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
		}
	}
	p.up(t)
	if res := get(); res.StatusCode != http.StatusNoContent {
		t.Fatalf("QIDO after the outage: %d", res.StatusCode)
	}
}
