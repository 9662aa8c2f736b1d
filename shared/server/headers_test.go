package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Requests with up to about 16 KiB of headers are served (big cookies, a
// proxy's own headers); more is 431. Before, anything over fasthttp's 4 KiB
// default was refused with 431.
func TestLargeHeadersAreServed(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	get := func(headerBytes int) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		// Several headers of 1000 bytes each, as cookies and proxy headers come.
		for i := 0; headerBytes > 0; i++ {
			n := min(headerBytes, 1000)
			req.Header.Set("X-Padding-"+strings.Repeat("a", 1+i%3)+string(rune('a'+i%26))+string(rune('a'+i/26)), strings.Repeat("v", n))
			headerBytes -= n
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, n := range []int{1 << 10, 6 << 10, 12 << 10} {
		if got := get(n); got != http.StatusOK {
			t.Errorf("%d bytes of headers: status %d, want 200", n, got)
		}
	}
	if got := get(server.ReadBufferSize + 2<<10); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("%d bytes of headers: status %d, want 431", server.ReadBufferSize+2<<10, got)
	}
}
