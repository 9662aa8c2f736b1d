package testdb_test

import (
	"context"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// A test's database is dropped at its cleanup, unless the run's cluster is
// thrown away as a whole (make test sets KeepEnvVar).
func TestCleanupDropsUnlessKept(t *testing.T) {
	ctx := context.Background()
	admin, err := database.Open(ctx, testdb.AdminURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	exists := func(name string) bool {
		var n int
		if err := admin.NewRaw("SELECT count(*) FROM pg_database WHERE datname = ?", name).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	for _, c := range []struct {
		keep string
		want bool
	}{{"", false}, {"0", false}, {"1", true}} {
		t.Setenv(testdb.KeepEnvVar, c.keep)
		var name string
		t.Run("keep="+c.keep, func(t *testing.T) {
			db := testdb.New(t)
			if err := db.NewRaw("SELECT current_database()").Scan(ctx, &name); err != nil {
				t.Fatal(err)
			}
			if !exists(name) {
				t.Fatalf("database %s missing during the test", name)
			}
		})
		if got := exists(name); got != c.want {
			t.Errorf("%s=%q: database %s exists after cleanup = %v, want %v", testdb.KeepEnvVar, c.keep, name, got, c.want)
		}
		if c.want {
			if _, err := admin.ExecContext(ctx, `DROP DATABASE "`+name+`"`); err != nil {
				t.Fatal(err)
			}
		}
	}
}
