package studies_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/testkit/testbench"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// benchDB is the database the search benchmark runs on:
// RADPASS_BENCH_STUDYLIST_DSN names an already seeded one (e.g. `radpass seed
// --studies 1000000`); otherwise a fresh test database gets
// RADPASS_BENCH_STUDIES bulk studies (default 50,000, so `go test -bench .`
// stays quick; scripts/bench-studylist.sh asks for 1,000,000).
func benchDB(b *testing.B) *bun.DB {
	b.Helper()
	ctx := context.Background()
	if dsn := os.Getenv("RADPASS_BENCH_STUDYLIST_DSN"); dsn != "" {
		db, err := database.Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		return db
	}
	n := 50000
	if v := os.Getenv("RADPASS_BENCH_STUDIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("RADPASS_BENCH_STUDIES: %v", err)
		}
	}
	db, dsn := testdb.NewWithURL(b)
	res, err := seed.Bulk(ctx, dsn, n, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("bulk-loaded %d studies (%d patients) in %s", res.Studies, res.Patients, res.Took.Round(time.Millisecond))
	return db
}

// recorder keeps the text of every statement bun runs while on.
type recorder struct {
	on  bool
	sql []string
}

func (r *recorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (r *recorder) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if r.on {
		r.sql = append(r.sql, e.Query)
	}
}

// statements returns the statements one Search of f runs, in order: the
// floor of a case is the same statements run bare.
func statements(b *testing.B, db *bun.DB, rec *recorder, u *database.User, f studies.Filter) []string {
	b.Helper()
	rec.on, rec.sql = true, nil
	_, err := studies.Search(context.Background(), db, u, f)
	rec.on = false
	if err != nil {
		b.Fatal(err)
	}
	if os.Getenv("RADPASS_BENCH_EXPLAIN") != "" {
		b.Logf("statements:\n%s", strings.Join(rec.sql, ";\n"))
	}
	return rec.sql
}

// bare runs the statements through database/sql, reading every row.
func bare(ctx context.Context, b *testing.B, db *bun.DB, stmts []string) {
	for _, q := range stmts {
		if err := testbench.BareQuery(ctx, db.DB, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearch times studies.Search (the study list's whole database work:
// estimates, main query, labels) per case, and the same statements run bare
// through database/sql, reporting p50/p95/p99 in ms and the p95 ratio.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	rec := &recorder{}
	db.AddQueryHook(rec)
	var total int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM studies`).Scan(&total); err != nil {
		b.Fatal(err)
	}
	var deptID int64
	var pid, acc, family string
	// A patient from the middle of the data, and one of their studies.
	err := db.QueryRowContext(ctx, `SELECT s.department_id, p.patient_id, s.accession, p.family_name FROM studies s
		JOIN patients p ON p.id = s.patient_id WHERE s.id = (SELECT id FROM studies ORDER BY id OFFSET (SELECT count(*)/2 FROM studies) LIMIT 1)`).
		Scan(&deptID, &pid, &acc, &family)
	if err != nil {
		b.Fatal(err)
	}
	staff := &database.User{ID: 1, Role: database.RoleStaff, DepartmentID: &deptID}
	desk := &database.User{ID: 2, Role: database.RoleServiceDesk}
	first, err := studies.Search(ctx, db, staff, studies.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	muller, err := studies.Search(ctx, db, staff, studies.Filter{Query: "Müller"})
	if err != nil {
		b.Fatal(err)
	}
	from := time.Now().AddDate(-1, 0, 0)
	to := time.Now().AddDate(0, -6, 0)
	cases := []struct {
		name string
		u    *database.User
		f    studies.Filter
	}{
		{"list", staff, studies.Filter{}},
		{"next-page", staff, studies.Filter{After: first.Next}},
		{"name-full", staff, studies.Filter{Query: family}},
		{"name-accent", staff, studies.Filter{Query: "Müller"}},
		{"name-accent-page2", staff, studies.Filter{Query: "Müller", After: muller.Next}},
		{"name-partial", staff, studies.Filter{Query: "mar"}},
		{"name-and-given", staff, studies.Filter{Query: family + ", emma"}},
		{"patient-id", staff, studies.Filter{Query: pid}},
		{"accession", staff, studies.Filter{Query: acc}},
		{"filters", staff, studies.Filter{Modality: "MR", Report: studies.ReportYes, From: &from, To: &to}},
		{"name-filters", staff, studies.Filter{Query: "müller", Modality: "CT", Report: studies.ReportNo}},
		// A frequent part of a name with a rare modality: few matches among many candidates.
		{"partial-rare-filter", staff, studies.Filter{Query: "mar", Modality: "PT", Report: studies.ReportYes}},
		{"rare-modality-range", staff, studies.Filter{Modality: "PT", From: &to}},
		{"no-match", staff, studies.Filter{Query: "zzzzqqq"}},
		{"servicedesk-all", desk, studies.Filter{}},
		{"servicedesk-name", desk, studies.Filter{Query: "müller"}},
	}
	b.Logf("%d studies; staff of department %d", total, deptID)
	for _, c := range cases {
		query, err := studies.SQL(ctx, db, c.u, c.f)
		if err != nil {
			b.Fatal(err)
		}
		explain(b, db, c.name, query)
		stmts := statements(b, db, rec, c.u, c.f)
		b.Run(c.name, func(b *testing.B) {
			var tm testbench.Timings
			var rows int
			for b.Loop() {
				t0 := time.Now()
				p, err := studies.Search(ctx, db, c.u, c.f)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				bare(ctx, b, db, stmts)
				tm.Code = append(tm.Code, t1.Sub(t0))
				tm.Bare = append(tm.Bare, time.Since(t1))
				rows = len(p.Rows)
			}
			tm.Report(b)
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(len(stmts)), "statements")
		})
	}
}

// BenchmarkLabelFilter times "Contains labels" in a department of the bench
// data: a rare label (200 studies, listed), a frequent one (every 40th study
// of the department, sorted or walked) and each with a name search, with the
// p95 ratio to the same statements run bare. It adds a user, a group and the labels
// to the database once (they are kept for the next run).
func BenchmarkLabelFilter(b *testing.B) {
	ctx := context.Background()
	db := benchDB(b)
	var deptID int64
	if err := db.QueryRowContext(ctx, `SELECT department_id FROM studies GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`).Scan(&deptID); err != nil {
		b.Fatal(err)
	}
	var deptStudies int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM studies WHERE department_id = ?`, deptID).Scan(&deptStudies); err != nil {
		b.Fatal(err)
	}
	u := &database.User{Username: "bench.labels", Role: database.RoleStaff, DepartmentID: &deptID, PasswordHash: "x"}
	if err := db.NewSelect().Model(u).Where("username = ?", u.Username).Scan(ctx); err != nil {
		if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	label := func(name, sel string) int64 {
		l := &database.Label{DepartmentID: deptID, Name: name, Color: "#c0392b"}
		if err := db.NewSelect().Model(l).Where("department_id = ? AND name = ?", deptID, name).Scan(ctx); err == nil {
			return l.ID
		}
		if _, err := db.NewInsert().Model(l).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO study_labels (study_id, label_id, user_id) `+sel, l.ID, u.ID, deptID); err != nil {
			b.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `ANALYZE study_labels`); err != nil {
			b.Fatal(err)
		}
		return l.ID
	}
	rare := label("bench-rare", `SELECT id, ?::bigint, ?::bigint FROM studies WHERE department_id = ? ORDER BY md5(id::text) LIMIT 200`)
	common := label("bench-common", `SELECT id, ?::bigint, ?::bigint FROM studies WHERE department_id = ? AND id % 40 = 0`)
	var commonN int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM study_labels WHERE label_id = ?`, common).Scan(&commonN); err != nil {
		b.Fatal(err)
	}
	b.Logf("department %d: %d studies; rare label 200, common label %d", deptID, deptStudies, commonN)
	first, err := studies.Search(ctx, db, u, studies.Filter{LabelIDs: []int64{common}})
	if err != nil {
		b.Fatal(err)
	}
	both, err := studies.Search(ctx, db, u, studies.Filter{LabelIDs: []int64{common}, Query: "müller"})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		f    studies.Filter
	}{
		{"rare", studies.Filter{LabelIDs: []int64{rare}}},
		{"common", studies.Filter{LabelIDs: []int64{common}}},
		{"common-page2", studies.Filter{LabelIDs: []int64{common}, After: first.Next}},
		{"rare-and-name", studies.Filter{LabelIDs: []int64{rare}, Query: "müller"}},
		{"common-and-name", studies.Filter{LabelIDs: []int64{common}, Query: "müller"}},
		{"common-and-name-page2", studies.Filter{LabelIDs: []int64{common}, Query: "müller", After: both.Next}},
		{"both-labels-modality", studies.Filter{LabelIDs: []int64{rare, common}, Modality: "CT"}},
	}
	rec := &recorder{}
	db.AddQueryHook(rec)
	for _, c := range cases {
		query, err := studies.SQL(ctx, db, u, c.f)
		if err != nil {
			b.Fatal(err)
		}
		explain(b, db, c.name, query)
		stmts := statements(b, db, rec, u, c.f)
		b.Run(c.name, func(b *testing.B) {
			var tm testbench.Timings
			var rows int
			for b.Loop() {
				t0 := time.Now()
				p, err := studies.Search(ctx, db, u, c.f)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				bare(ctx, b, db, stmts)
				tm.Code = append(tm.Code, t1.Sub(t0))
				tm.Bare = append(tm.Bare, time.Since(t1))
				rows = len(p.Rows)
			}
			tm.Report(b)
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(len(stmts)), "statements")
		})
	}
}

// explain logs the plan of a case's main query, run, with RADPASS_BENCH_EXPLAIN set.
func explain(b *testing.B, db *bun.DB, name, query string) {
	b.Helper()
	if os.Getenv("RADPASS_BENCH_EXPLAIN") == "" {
		return
	}
	var plan []string
	if err := db.NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+query).Scan(context.Background(), &plan); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s:\n%s", name, strings.Join(plan, "\n"))
}
