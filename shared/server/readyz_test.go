package server_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A pool whose every connection is in use (150 parallel prints) is busy, not
// broken: /readyz answers from a connection of its own and says ready.
// Before, it pinged through the pool, queued behind the requests and
// answered 503 after 2 s, and a load balancer would pull a healthy server.
func TestReadyWhilePoolIsSaturated(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	const size = 3
	srv.DB.SetMaxOpenConns(size)
	ctx := context.Background()
	held := make([]*sql.Conn, size)
	for i := range held {
		cn, err := srv.DB.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held[i] = cn
	}
	if st := srv.DB.Stats(); st.InUse != size {
		t.Fatalf("pool: %d in use, want %d (all)", st.InUse, size)
	}
	c := srv.Client(t)
	for i := 0; i < 3; i++ {
		if res, body := c.Get("/readyz"); res.StatusCode != http.StatusOK {
			t.Fatalf("readyz with a saturated pool: %d %q, want 200", res.StatusCode, body)
		}
	}
	for _, cn := range held {
		cn.Close()
	}
	if res, _ := c.Get("/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("readyz afterwards: %d", res.StatusCode)
	}
}
