package database_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/localpg"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

func sqlState(err error) string {
	var pe pgdriver.Error
	if errors.As(err, &pe) {
		return pe.Field('C')
	}
	return ""
}

// A request never waits minutes: a row lock held elsewhere fails the waiter
// with lock_not_available, and a transaction left idle is ended by the
// server, long before the driver's 5-minute read timeout.
func TestRequestTimeouts(t *testing.T) {
	t.Parallel()
	_, dsn := testdb.NewWithURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	def, err := database.Open(ctx, dsn, database.RequestTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	for name, want := range map[string]string{"statement_timeout": "30s", "lock_timeout": "5s", "idle_in_transaction_session_timeout": "30s"} {
		var got string
		if err := def.NewRaw("SELECT current_setting(?)", name).Scan(ctx, &got); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %s", name, got, err, want)
		}
	}

	db, err := database.Open(ctx, dsn, database.WithTimeouts(2*time.Second, 200*time.Millisecond, 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE TABLE lockme (id int PRIMARY KEY, v int); INSERT INTO lockme VALUES (1, 0)`); err != nil {
		t.Fatal(err)
	}
	// The lock holder has no timeouts of its own: only the waiter's count.
	plain, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	holder, err := plain.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback() //nolint:errcheck
	if _, err := holder.ExecContext(ctx, `UPDATE lockme SET v = 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `UPDATE lockme SET v = 2 WHERE id = 1`)
	if got := sqlState(err); got != "55P03" {
		t.Fatalf("update of a locked row: %v (SQLSTATE %q), want lock_not_available 55P03", err, got)
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	// A transaction of the pool left idle past the timeout is ended, and
	// its row lock goes with it.
	idle, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Rollback() //nolint:errcheck
	if _, err := idle.ExecContext(ctx, `UPDATE lockme SET v = 3 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := idle.ExecContext(ctx, `SELECT 1`); err == nil {
		t.Fatal("a transaction idle past idle_in_transaction_session_timeout still runs")
	}
	if _, err := plain.ExecContext(ctx, `UPDATE lockme SET v = 4 WHERE id = 1`); err != nil {
		t.Fatalf("lock still held after the idle transaction was ended: %v", err)
	}
	_, err = db.ExecContext(ctx, `SELECT pg_sleep(5)`)
	if got := sqlState(err); got != "57014" {
		t.Fatalf("a 5 s statement under a 2 s timeout: %v (SQLSTATE %q), want 57014", err, got)
	}
}

// After PostgreSQL restarts, the pool's connections are dead (the server sent
// 57P01 admin shutdown on each). The first requests must not fail for it: a
// dead pooled connection is dropped before use and the query retried on a
// new one; readiness dials a fresh connection.
func TestPoolSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root, err := os.MkdirTemp("/tmp", "pgr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	cl, err := localpg.New(filepath.Join(root, "pg"), freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(ctx, cl.DSN("postgres"), database.RequestTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Fill the pool with idle connections.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := db.ExecContext(ctx, `SELECT pg_sleep(0.2)`); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := db.Stats().Idle; n < 4 {
		t.Fatalf("only %d idle connections in the pool", n)
	}
	if err := cl.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := database.Ready(ctx, db); err == nil {
		t.Fatal("ready while PostgreSQL is stopped")
	}
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := database.Ready(ctx, db); err != nil {
		t.Fatalf("not ready right after PostgreSQL came back: %v", err)
	}
	for i := 0; i < 12; i++ {
		var one int
		if err := db.NewRaw(`SELECT 1`).Scan(ctx, &one); err != nil {
			t.Fatalf("query %d after the restart: %v", i+1, err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatalf("transaction %d after the restart: %v", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// A pool waits for PostgreSQL's answer at most its read timeout; migrations
// open with none (ReadTimeout(0)), so a backfill longer than the default is
// not cut off mid-upgrade.
func TestReadTimeout(t *testing.T) {
	_, dsn := testdb.NewWithURL(t)
	ctx := context.Background()
	for _, c := range []struct {
		timeout time.Duration
		ok      bool
	}{{2 * time.Second, false}, {0, true}} { // 2 s: the connection's own start-up must fit in it on a busy machine
		db, err := database.Open(ctx, dsn, database.ReadTimeout(c.timeout))
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.ExecContext(ctx, `SELECT pg_sleep(2.5)`)
		db.Close()
		if (err == nil) != c.ok {
			t.Errorf("read timeout %v: pg_sleep(2.5) err = %v, want ok = %v", c.timeout, err, c.ok)
		}
	}
}
