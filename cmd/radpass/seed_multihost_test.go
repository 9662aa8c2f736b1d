package main

import (
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testdb"
)

// radpass seed, the demo data and the bulk studies alike, takes the
// database URL serve takes: several hosts with
// target_session_attrs=read-write, the first one down (port 1 refuses).
func TestSeedMultiHostURL(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	u := testdb.BehindHost(t, dsn, "127.0.0.1:1")
	r := radpass(t, map[string]string{"RADPASS_DEV": "1", "RADPASS_DATABASE_URL": u.String(), "RADPASS_DATA_DIR": t.TempDir()},
		"", "seed", "--patients", "1", "--studies", "40")
	if r.code != 0 || !strings.Contains(r.stdout, "bulk data written: 40 studies") {
		t.Fatalf("seed on %s: exit %d\n%s\n%s", u.Redacted(), r.code, r.stdout, r.stderr)
	}
	var demo, studies int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM users`).Scan(&demo); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM studies`).Scan(&studies); err != nil {
		t.Fatal(err)
	}
	if demo == 0 || studies < 41 {
		t.Fatalf("after the seed: %d users, %d studies; want the demo users and its studies plus 40", demo, studies)
	}
}
