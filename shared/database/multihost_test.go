package database_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// A URL with several hosts and target_session_attrs=read-write (libpq's
// form) connects to the first host that answers and takes writes: here a
// closed port first, then the test cluster. With no host answering, the
// error is an outage (503), not a fault.
func TestMultiHostURL(t *testing.T) {
	t.Parallel()
	_, dsn := testdb.NewWithURL(t)
	closed := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	u := testdb.BehindHost(t, dsn, closed)
	ctx := context.Background()
	db, err := database.Open(ctx, u.String())
	if err != nil {
		t.Fatalf("open %s: %v", u.Redacted(), err)
	}
	defer db.Close()
	var one int
	if err := db.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Fatalf("query: %v", err)
	}
	if err := database.Ready(ctx, db); err != nil {
		t.Fatalf("ready: %v", err)
	}

	u.Host = closed + "," + closed
	if _, err := database.Open(ctx, u.String()); err == nil || !apperr.IsUnavailable(err) {
		t.Fatalf("no host answering: %v, want an outage", err)
	}
	u = testdb.BehindHost(t, dsn, closed)
	q := u.Query()
	q.Set("target_session_attrs", "standby")
	u.RawQuery = q.Encode()
	if _, err := database.Open(ctx, u.String()); err == nil {
		t.Fatal("target_session_attrs=standby accepted")
	}
}
