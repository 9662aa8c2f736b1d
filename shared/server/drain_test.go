package server_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A draining instance (SIGTERM) says not ready at once and answers new
// pages 503 (a proxy retries them on another instance and takes this one
// out), yet serves a POST that reaches it; every answer closes its
// connection so keep-alive clients reconnect elsewhere.
func TestDrainAnswersNotReady(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	if res, _ := c.Get("/readyz"); res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("readyz before the drain: %d (connection close %v)", res.StatusCode, res.Close)
	}
	srv.App.Drain()
	res, rbody := c.Get("/readyz")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz while draining: %d %q, Retry-After %q", res.StatusCode, rbody, res.Header.Get("Retry-After"))
	}
	res, _ = c.Get("/staff/signin")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !res.Close {
		t.Fatalf("a page while draining: %d, connection close %v; want 503 with Retry-After and close", res.StatusCode, res.Close)
	}
	if res, _ := c.Get("/healthz"); res.StatusCode != http.StatusOK {
		t.Fatalf("healthz while draining: %d", res.StatusCode)
	}
	// A POST is served (here: a wrong password, the sign-in page again).
	res, body := c.PostForm("/staff/signin", url.Values{"username": {"nobody"}, "password": {"wrong"}})
	if res.StatusCode == http.StatusServiceUnavailable || res.StatusCode >= 500 || !res.Close {
		t.Fatalf("a POST while draining: %d, connection close %v\n%s", res.StatusCode, res.Close, body)
	}
}
