package seed_test

import (
	"context"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func TestBulkOnEmptyDatabaseAndAgain(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	ctx := context.Background()
	indexes := func() string {
		t.Helper()
		var defs string
		if err := db.QueryRowContext(ctx, `SELECT string_agg(indexdef, E'\n' ORDER BY indexname) FROM pg_indexes
			WHERE tablename IN ('patients', 'studies')`).Scan(&defs); err != nil {
			t.Fatal(err)
		}
		return defs
	}
	before := indexes()
	// The first load is larger than the table: it drops and rebuilds the
	// secondary indexes; the second, smaller one inserts into them.
	first, err := seed.Bulk(ctx, dsn, 2000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Departments != 2 || first.Studies != 2000 || first.Patients != 800 {
		t.Fatalf("first run %+v", first)
	}
	// Again, on top: a new prefix, the same departments.
	second, err := seed.Bulk(ctx, dsn, 500, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Prefix == first.Prefix || second.Departments != 2 {
		t.Fatalf("second run %+v after %+v", second, first)
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM studies`); n != 2500 {
		t.Fatalf("%d studies, want 2500", n)
	}
	if n := count(`SELECT count(*) FROM departments`); n != 2 {
		t.Fatalf("%d departments", n)
	}
	// Every study belongs to its patient's department, and is searchable.
	if n := count(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id WHERE s.department_id <> p.department_id`); n != 0 {
		t.Fatalf("%d studies outside their patient's department", n)
	}
	if n := count(`SELECT count(*) FROM studies WHERE search = '' OR search NOT LIKE '%' || lower(accession) || '%'`); n != 0 {
		t.Fatalf("%d studies without a search text", n)
	}
	if after := indexes(); after != before {
		t.Fatalf("indexes after the loads:\n%s\nbefore:\n%s", after, before)
	}
	// The search text Bulk writes is the one the trigger computes.
	if n := count(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE s.search <> rp_fold(p.family_name || ' ' || p.given_name || ' ' || p.middle_name || ' ' || p.patient_id) || ' ' || rp_fold(s.accession)`); n != 0 {
		t.Fatalf("%d studies whose search text is not the trigger's", n)
	}
	// The study list's dictionary holds exactly the parts of the search
	// texts (the trigger's, which the replica role skips).
	for _, q := range []string{
		`SELECT r.part, bool_or(r.in_id) FROM studies s, rp_search_parts(s.search) r GROUP BY r.part EXCEPT SELECT word, in_id FROM search_words`,
		`SELECT word, in_id FROM search_words EXCEPT SELECT r.part, bool_or(r.in_id) FROM studies s, rp_search_parts(s.search) r GROUP BY r.part`,
	} {
		if n := count(`SELECT count(*) FROM (` + q + `) AS x`); n != 0 {
			t.Fatalf("search_words and the search texts' parts differ by %d words (%s)", n, q)
		}
	}
	if n := count(`SELECT count(*) FROM patients p WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_id = p.id)`); n != 0 {
		t.Fatalf("%d patients without a study", n)
	}
	// Accented demo names fold for search (Müller -> muller).
	if n := count(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id WHERE p.family_name ~ '[^a-zA-Z'' -]' AND s.search ~ '[^a-z0-9 ''.-]'`); n != 0 {
		t.Fatalf("%d search texts keep accents", n)
	}
}

func TestBulkUsesExistingDepartments(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	ctx := context.Background()
	testserver.MustDepartment(t, db, "NORTH")
	testserver.MustDepartment(t, db, "SOUTH")
	res, err := seed.Bulk(ctx, dsn, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Departments != 2 {
		t.Fatalf("bulk used %d departments, want the 2 existing ones", res.Departments)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(DISTINCT department_id) FROM studies WHERE accession LIKE ?`, res.Prefix+"%").Scan(&n); err != nil || n != 2 {
		t.Fatalf("bulk studies in %d departments (%v)", n, err)
	}
}

// A transaction older than the load (here a held snapshot, in CI an
// autovacuum ANALYZE) makes the first VACUUM leave the new pages not
// all-visible; Bulk vacuums again once it has ended, so the study list's
// walks are index-only right after the load.
func TestBulkEndsAllVisibleAfterAnOlderSnapshotEnds(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	ctx := context.Background()
	holder, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, `BEGIN ISOLATION LEVEL REPEATABLE READ`); err != nil {
		t.Fatal(err)
	}
	// Takes the snapshot; reading studies would hold a lock Bulk's index
	// rebuild waits for.
	if _, err := holder.ExecContext(ctx, `SELECT count(*) FROM departments`); err != nil {
		t.Fatal(err)
	}
	// Release the snapshot only once Bulk's first VACUUM of studies is over.
	released := make(chan error, 1)
	go func() {
		for {
			var vacuums int
			err := db.QueryRowContext(ctx, `SELECT vacuum_count FROM pg_stat_all_tables WHERE relid = 'studies'::regclass`).Scan(&vacuums)
			if err != nil || vacuums > 0 {
				if err == nil {
					_, err = holder.ExecContext(ctx, `COMMIT`)
				}
				released <- err
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	if _, err := seed.Bulk(ctx, dsn, 2000, nil); err != nil {
		t.Fatal(err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT relname, relpages, relallvisible FROM pg_class WHERE relname IN ('patients', 'studies')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var pages, visible int
		if err := rows.Scan(&name, &pages, &visible); err != nil {
			t.Fatal(err)
		}
		if pages == 0 || visible < pages {
			t.Errorf("%s: %d of %d pages all-visible after Bulk", name, visible, pages)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
