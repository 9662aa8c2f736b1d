package statusfw_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/testkit/testbench"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// bulkBuckets writes n buckets (one study each) server-side with
// INSERT ... SELECT generate_series, on its own connection with long
// timeouts (as seed.Bulk does for its COPY): newest print every 30 seconds
// back over about a year, 1 in 2,000 blocked, 1 in 20 revoked, 1 in 100
// anonymized, most older ones expired, a quarter with a patient access.
func bulkBuckets(tb testing.TB, dsn string, n int) time.Duration {
	tb.Helper()
	t0 := time.Now()
	ctx := context.Background()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn), pgdriver.WithReadTimeout(30*time.Minute), pgdriver.WithWriteTimeout(30*time.Minute)))
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`SET synchronous_commit = on`,
		`CREATE TEMP TABLE bench_ps AS SELECT row_number() OVER (ORDER BY p.id) AS n, p.id AS patient_id, p.department_id, min(s.id) AS study_id
			FROM patients p JOIN studies s ON s.patient_id = p.id GROUP BY p.id`,
		`CREATE UNIQUE INDEX ON bench_ps (n)`,
		`CREATE TEMP TABLE bench_u AS SELECT department_id, min(id) AS user_id FROM users WHERE department_id IS NOT NULL GROUP BY department_id`,
		`INSERT INTO buckets (ref_hash, department_id, patient_id, verification, destination, scope, valid_until, reason, language,
			anonymized, anon_number, created_by, state, failures, created_at, last_access_at)
		SELECT sha256(convert_to('bench' || g, 'UTF8')), ps.department_id, ps.patient_id, 'dob', '',
			CASE WHEN g % 3 = 0 THEN 'images_report' ELSE 'images' END,
			(now() - g * interval '30 seconds')::date + 30, 'bench', 'en',
			g % 100 = 0, CASE WHEN g % 100 = 0 THEN lpad((g % 1000000)::text, 6, '0') ELSE '' END,
			u.user_id,
			CASE WHEN g % 2000 = 0 THEN 'blocked' WHEN g % 20 = 0 THEN 'revoked' ELSE 'active' END,
			CASE WHEN g % 2000 = 0 THEN 5 ELSE g % 3 END,
			now() - g * interval '30 seconds',
			CASE WHEN g % 4 = 0 THEN now() - g * interval '20 seconds' END
		FROM generate_series(1, ` + strconv.Itoa(n) + `) g
		JOIN bench_ps ps ON ps.n = g % (SELECT count(*) FROM bench_ps) + 1
		JOIN bench_u u ON u.department_id = ps.department_id`,
		`INSERT INTO bucket_studies (bucket_id, study_id) SELECT b.id, ps.study_id FROM buckets b JOIN bench_ps ps ON ps.patient_id = b.patient_id`,
		`VACUUM ANALYZE buckets`,
		`VACUUM ANALYZE bucket_studies`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			tb.Fatalf("%v\n%s", err, q)
		}
	}
	return time.Since(t0)
}

// BenchmarkStatusForwarding times Status Forwarding on RADPASS_BENCH_BUCKETS
// buckets (default 1,000,000): buckets.List (all of the page's database
// work) per case with the p95 of the very same statements run bare through
// database/sql, and the whole GET /staff/status on the real server over
// loopback (session, query, template).
func BenchmarkStatusForwarding(b *testing.B) {
	n := 1000000
	if v := os.Getenv("RADPASS_BENCH_BUCKETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	srv := testserver.New(b)
	ctx := context.Background()
	if _, err := seed.Bulk(ctx, srv.DSN, 50000, nil); err != nil {
		b.Fatal(err)
	}
	var depts []*database.Department
	if err := srv.DB.NewSelect().Model(&depts).Order("id").Scan(ctx); err != nil {
		b.Fatal(err)
	}
	var admin *database.User
	for i, d := range depts {
		u := testserver.MustUser(b, srv.DB, "bench"+strconv.Itoa(i), database.RoleAdmin, d)
		if i == 0 {
			admin = u
		}
	}
	took := bulkBuckets(b, srv.DSN, n)
	var total, dept0 int
	if err := srv.DB.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE department_id = ?) FROM buckets`, depts[0].ID).Scan(&total, &dept0); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d buckets (%d in the admin's department) written in %s", total, dept0, took.Round(time.Second))
	var family string
	if err := srv.DB.QueryRowContext(ctx, `SELECT p.family_name FROM buckets b JOIN patients p ON p.id = b.patient_id
		WHERE b.department_id = ? AND NOT b.anonymized ORDER BY b.id OFFSET 5000 LIMIT 1`, depts[0].ID).Scan(&family); err != nil {
		b.Fatal(err)
	}
	// Labels on the studies of the admin's department: a common one (7 in
	// 256 studies by a hash of the id, so about 1 bucket in 35) and a rare
	// one (20 studies that are in buckets, about 1,000 buckets: 1 in 500).
	label := func(name, sel string) int64 {
		l := &database.Label{DepartmentID: depts[0].ID, Name: name, Color: "#c0392b"}
		if _, err := srv.DB.NewInsert().Model(l).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.DB.ExecContext(ctx, `INSERT INTO study_labels (study_id, label_id, user_id) `+sel, l.ID, admin.ID, depts[0].ID); err != nil {
			b.Fatal(err)
		}
		return l.ID
	}
	common := label("bench-common", `SELECT id, ?::bigint, ?::bigint FROM studies WHERE department_id = ?
		AND get_byte(decode(md5(id::text), 'hex'), 0) < 7`)
	rare := label("bench-rare", `SELECT s.id, ?::bigint, ?::bigint FROM studies s WHERE s.department_id = ?
		AND EXISTS (SELECT 1 FROM bucket_studies bs WHERE bs.study_id = s.id) ORDER BY md5(s.id::text) LIMIT 20`)
	if _, err := srv.DB.ExecContext(ctx, `VACUUM ANALYZE study_labels`); err != nil {
		b.Fatal(err)
	}
	var commonN, rareN int
	if err := srv.DB.QueryRowContext(ctx, `SELECT count(DISTINCT bs.bucket_id) FILTER (WHERE sl.label_id = ?), count(DISTINCT bs.bucket_id) FILTER (WHERE sl.label_id = ?)
		FROM bucket_studies bs JOIN study_labels sl ON sl.study_id = bs.study_id`, common, rare).Scan(&commonN, &rareN); err != nil {
		b.Fatal(err)
	}
	b.Logf("buckets with a labelled study: common label %d, rare label %d", commonN, rareN)
	svc := srv.App.Buckets
	desk := &database.User{ID: -1, Role: database.RoleServiceDesk}
	first, err := svc.List(ctx, admin, buckets.ListFilter{})
	if err != nil {
		b.Fatal(err)
	}
	from := svc.Today().AddDate(0, -6, 0)
	to := from.AddDate(0, 0, 7)
	cases := []struct {
		name string
		u    *database.User
		f    buckets.ListFilter
		http string
	}{
		{"first-page", admin, buckets.ListFilter{}, ""},
		{"next-page", admin, buckets.ListFilter{After: first.Next}, "after=" + first.Next},
		{"state-blocked", admin, buckets.ListFilter{State: database.BucketBlocked}, "state=blocked"},
		{"state-active", admin, buckets.ListFilter{State: database.BucketActive}, "state=active"},
		{"patient-name", admin, buckets.ListFilter{Patient: family}, "patient=" + url.QueryEscape(family)},
		{"week-six-months-ago", admin, buckets.ListFilter{From: &from, To: &to}, "from=" + from.Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)},
		{"creator", admin, buckets.ListFilter{CreatedBy: admin.ID}, "creator=" + strconv.FormatInt(admin.ID, 10)},
		{"label-common", admin, buckets.ListFilter{Label: common}, "label=" + strconv.FormatInt(common, 10)},
		{"label-rare", admin, buckets.ListFilter{Label: rare}, "label=" + strconv.FormatInt(rare, 10)},
		{"label-common-blocked", admin, buckets.ListFilter{Label: common, State: database.BucketBlocked}, "label=" + strconv.FormatInt(common, 10) + "&state=blocked"},
		{"servicedesk-all", desk, buckets.ListFilter{}, ""},
	}
	for _, c := range cases {
		queries, err := svc.ListSQL(ctx, c.u, c.f)
		if err != nil {
			b.Fatal(err)
		}
		if os.Getenv("RADPASS_BENCH_EXPLAIN") != "" {
			for _, q := range queries {
				var plan []string
				if err := srv.DB.NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+q).Scan(ctx, &plan); err != nil {
					b.Fatal(err)
				}
				b.Logf("%s:\n%s\n  %s", c.name, q, strings.Join(plan, "\n  "))
			}
		}
		b.Run("list/"+c.name, func(b *testing.B) {
			var tm testbench.Timings
			rows := 0
			for b.Loop() {
				t0 := time.Now()
				p, err := svc.List(ctx, c.u, c.f)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				for _, q := range queries {
					if err := testbench.BareQuery(ctx, srv.DB.DB, q); err != nil {
						b.Fatal(err)
					}
				}
				tm.Code = append(tm.Code, t1.Sub(t0))
				tm.Bare = append(tm.Bare, time.Since(t1))
				rows = len(p.Rows)
			}
			tm.Report(b)
			b.ReportMetric(float64(rows), "rows")
		})
	}
	c := srv.Client(b)
	c.SignIn("bench0", testserver.Password)
	for _, cs := range cases {
		if cs.u != admin {
			continue
		}
		b.Run("http/"+cs.name, func(b *testing.B) {
			var tm testbench.Timings
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/staff/status?"+cs.http, nil)
				t0 := time.Now()
				res, err := c.HTTP.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				tm.Code = append(tm.Code, time.Since(t0))
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("status %d (%v)", res.StatusCode, err)
				}
			}
			tm.Report(b)
		})
	}
}
