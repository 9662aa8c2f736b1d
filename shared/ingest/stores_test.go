package ingest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/tests3"
)

func TestMain(m *testing.M) { tests3.Main(m) }

// eachStore runs fn with an importer on the local folder and on an S3
// bucket (versitygw); ageKey sets a stored file's last write.
func eachStore(t *testing.T, fn func(t *testing.T, db *bun.DB, st storage.Lister, im *ingest.Importer, d *database.Department, ageKey func(string, time.Time))) {
	t.Run("fs", func(t *testing.T) {
		t.Parallel()
		db, st, im, d := setup(t)
		fn(t, db, st, im, d, func(key string, at time.Time) {
			if err := os.Chtimes(st.Path(key), at, at); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		srv := tests3.Start(t)
		o := srv.NewBucket(t)
		st, err := storage.NewS3(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		db := testdb.New(t)
		d := mustDepartment(t, db, "NORTH")
		im := &ingest.Importer{DB: db, Store: st, DepartmentID: d.ID, Workers: 4}
		fn(t, db, st, im, d, func(key string, at time.Time) { srv.Age(t, o, storage.ObjectName(key), at) })
	})
}
