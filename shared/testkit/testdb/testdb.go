// Package testdb gives each test its own real PostgreSQL database, cloned from
// a migrated template, so tests and packages run in parallel without sharing rows.
// `make test` starts a throwaway cluster and sets RADPASS_TEST_DATABASE_URL.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/migrations"
	"github.com/radpass/radpass/shared/database"
)

// EnvVar names the admin connection URL of the test cluster.
const EnvVar = "RADPASS_TEST_DATABASE_URL"

// KeepEnvVar, set to 1 by `make test` whose cluster is deleted afterwards,
// leaves each test's database in place at cleanup: a DROP DATABASE forces a
// checkpoint and costs PostgreSQL 0.4 CPU-s, more than the CREATE (0.25 s),
// paid a few hundred times per run. Anyone pointing the tests at a cluster
// they keep leaves it unset, and the databases are dropped.
const KeepEnvVar = "RADPASS_TEST_KEEP_DATABASES"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// AdminURL returns the test cluster's URL or fails the test: tests never skip
// silently because the database is missing. Under `go test -short` (make
// check) it skips: the quick tier runs no external service.
func AdminURL(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs PostgreSQL; skipped under -short")
	}
	u := os.Getenv(EnvVar)
	if u == "" {
		tb.Fatalf("%s is not set: run the tests with `make test`, which starts a throwaway PostgreSQL", EnvVar)
	}
	return u
}

// New returns a fresh, migrated database for this test, dropped at cleanup
// (unless KeepEnvVar is set).
func New(tb testing.TB) *bun.DB {
	tb.Helper()
	db, _ := NewWithURL(tb)
	return db
}

// NewWithURL is New plus the database's URL (for code that opens its own pool).
func NewWithURL(tb testing.TB) (*bun.DB, string) {
	tb.Helper()
	admin := AdminURL(tb)
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx, admin) })
	if templateErr != nil {
		tb.Fatalf("prepare template database: %v", templateErr)
	}
	name := "t_" + randomHex(8)
	adb, err := database.Open(ctx, admin)
	if err != nil {
		tb.Fatal(err)
	}
	defer adb.Close()
	// FILE_COPY copies the template's files at once: for this small schema
	// (9 MB) twice as fast as PostgreSQL 15's default WAL_LOG, which writes
	// every block through the WAL (141 vs 295 ms each; 10 at once 1.5 vs 3.4 s).
	if _, err := adb.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %q TEMPLATE %q STRATEGY FILE_COPY`, name, templateName)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	dsn := withDB(admin, name)
	db, err := database.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		db.Close()
		if os.Getenv(KeepEnvVar) == "1" {
			return
		}
		adb, err := database.Open(context.Background(), admin)
		if err != nil {
			return
		}
		defer adb.Close()
		_, _ = adb.ExecContext(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %q WITH (FORCE)`, name))
	})
	return db, dsn
}

// ensureTemplate creates (once per migration set, across parallel test
// processes) a database holding the current schema.
func ensureTemplate(ctx context.Context, admin string) (string, error) {
	name := "tmpl_" + migrationsHash()
	adb, err := database.Open(ctx, admin)
	if err != nil {
		return "", err
	}
	defer adb.Close()
	conn, err := adb.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// One process builds the template; the others wait on the lock.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(727274)`) //nolint:errcheck
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ? AND datistemplate)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %q`, name)); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %q`, name)); err != nil {
		return "", err
	}
	tdb, err := database.Open(ctx, withDB(admin, name))
	if err != nil {
		return "", err
	}
	if _, err := database.Migrate(ctx, tdb); err != nil {
		tdb.Close()
		return "", fmt.Errorf("migrate: %w", err)
	}
	tdb.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %q WITH is_template true ALLOW_CONNECTIONS false`, name)); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	var names []string
	for _, m := range migrations.Migrations.Sorted() {
		names = append(names, m.Name+m.Comment)
	}
	sort.Strings(names)
	for _, n := range names {
		h.Write([]byte(n))
	}
	_ = fs.WalkDir(migrations.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(migrations.Files, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func withDB(dsn, db string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + db
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Count returns the number of rows in table, failing the test on error.
func Count(tb testing.TB, db bun.IDB, table string) int {
	tb.Helper()
	n, err := db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// Behind starts calls one after the other while blocker (an open
// transaction that holds the rows they need) is still open, each once the
// previous one queues on its locks (so they queue in this order), then
// commits blocker and returns their errors. That is the interleaving two
// clicks on a busy server produce, made certain.
func Behind(tb testing.TB, db *bun.DB, blocker bun.Tx, calls ...func() error) []error {
	tb.Helper()
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, f := range calls {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f() }()
		for waiting := 0; waiting <= i; {
			if err := db.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).
				Scan(context.Background(), &waiting); err != nil {
				tb.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := blocker.Commit(); err != nil {
		tb.Fatal(err)
	}
	wg.Wait()
	return errs
}

// BehindHost is dsn in libpq's several-host form with first named before
// dsn's own host, and target_session_attrs=read-write: the URL of a
// deployment with a primary and a standby, here with first (a closed port,
// say) in front of the test cluster.
func BehindHost(tb testing.TB, dsn, first string) *url.URL {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	u.Host = first + "," + u.Host
	q := u.Query()
	q.Set("target_session_attrs", "read-write")
	u.RawQuery = q.Encode()
	return u
}
