package server_test

import (
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/testserver"
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
