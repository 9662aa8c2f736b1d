package dicomweb_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// secondInstance starts another server on srv's database and storage (a
// second instance behind the same load balancer) and returns its URL.
func secondInstance(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := *srv.Config
	cfg.Addr = ln.Addr().String()
	a, err := server.New(server.Deps{Config: &cfg, DB: srv.DB, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Fiber.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Fiber.ShutdownWithContext(ctx)
	})
	return "http://" + cfg.Addr
}

// A viewer link's rate limit holds across instances: two servers on one
// database together admit exactly the link's burst (the budget is in
// PostgreSQL, taken in slices), not a burst each; past it both answer 429
// with a Retry-After. (The rate is set so low that nothing refills during
// the test: the count is exact, no timing involved.)
func TestViewerLinkRateLimitAcrossInstances(t *testing.T) {
	const burst = 40 // slices of 2
	f := newLinkFixture(t, func(c *config.Config) { c.DICOMweb.LinkRate, c.DICOMweb.LinkBurst = 0.0001, burst })
	other := secondInstance(t, f.srv)
	base := createLink(t, f.plain)
	bases := []string{base, other + base[strings.Index(base, "/dicomweb/"):]}
	admitted := map[int]int{}
	for i := range 2 * burst {
		res, body := dw(t, bases[i%2]+"/studies", "Accept", "application/dicom+json")
		switch res.StatusCode {
		case http.StatusOK:
			admitted[i%2]++
		case http.StatusTooManyRequests:
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Fatalf("429 with Retry-After %q", res.Header.Get("Retry-After"))
			}
		default:
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
	}
	if admitted[0]+admitted[1] != burst || admitted[0] == 0 || admitted[1] == 0 {
		t.Fatalf("the two instances admitted %d and %d requests of one link, want %d together", admitted[0], admitted[1], burst)
	}
	// Another link of the access has its own budget.
	if res, _ := dw(t, createLink(t, f.plain)+"/studies", "Accept", "application/dicom+json"); res.StatusCode != http.StatusOK {
		t.Fatalf("a fresh link: %d", res.StatusCode)
	}
}
