package server_test

import (
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A draining instance (SIGTERM) says not ready at once, so a load balancer
// stops sending to it, yet still serves the requests that reach it, each
// closing its connection so keep-alive clients reconnect elsewhere.
func TestDrainAnswersNotReady(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	if res, _ := c.Get("/readyz"); res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("readyz before the drain: %d (connection close %v)", res.StatusCode, res.Close)
	}
	srv.App.Drain()
	res, body := c.Get("/readyz")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz while draining: %d %q, Retry-After %q", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	res, _ = c.Get("/staff/signin")
	if res.StatusCode != http.StatusOK || !res.Close {
		t.Fatalf("a page while draining: %d, connection close %v; want 200 and close", res.StatusCode, res.Close)
	}
}
