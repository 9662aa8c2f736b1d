package server_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// The first pages a fresh server renders, many at once (a restart under
// load): each is whole, and -race sees no data race. Fiber's c.Render
// filled a list of mount prefixes lazily on its first call without a lock,
// so the first parallel renders raced; web.Render now calls the views
// engine itself.
func TestFirstPagesRenderedInParallel(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	const n = 40
	clients := make([]*testserver.Client, n)
	for i := range clients {
		clients[i] = srv.Client(t)
	}
	paths := []string{"/", "/staff/signin", "/?lang=nl", "/nowhere"}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			path := paths[i%len(paths)]
			res, body := c.Get(path)
			want := http.StatusOK
			if path == "/nowhere" {
				want = http.StatusNotFound
			}
			if res.StatusCode != want || !strings.Contains(body, "</html>") ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), "text/html; charset=utf-8") {
				t.Errorf("%s: %d %q, %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(body))
			}
		}()
	}
	close(gate)
	wg.Wait()
}

// Request strings must outlive their request: streamed bodies (CSV
// exports, the patient ZIP) run after the handler returned, when fasthttp
// may already reuse the request's buffers for another request (an access
// CSV logged another request's id under -race).
func TestRequestStringsAreCopies(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	if !srv.App.Fiber.Config().Immutable {
		t.Fatal("the app hands out views of fasthttp's buffers (fiber.Config.Immutable is off)")
	}
}
