package studylist_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/testkit/testbench"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// BenchmarkStudyListHTTP times the whole study list request on the real
// server over loopback (session, CSRF, search, template, htmx fragment),
// on RADPASS_BENCH_STUDIES bulk studies (default 50,000).
func BenchmarkStudyListHTTP(b *testing.B) {
	n := 50000
	if v := os.Getenv("RADPASS_BENCH_STUDIES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	srv := testserver.New(b)
	ctx := context.Background()
	if _, err := seed.Bulk(ctx, srv.DSN, n, nil); err != nil {
		b.Fatal(err)
	}
	d := new(database.Department)
	if err := srv.DB.NewSelect().Model(d).Order("id").Limit(1).Scan(ctx); err != nil {
		b.Fatal(err)
	}
	testserver.MustUser(b, srv.DB, "bench", database.RoleStaff, d)
	c := srv.Client(b)
	c.SignIn("bench", testserver.Password)
	var family string
	if err := srv.DB.QueryRowContext(ctx, `SELECT family_name FROM patients WHERE department_id = ? ORDER BY id OFFSET 100 LIMIT 1`, d.ID).Scan(&family); err != nil {
		b.Fatal(err)
	}
	for _, cs := range []struct{ name, query string }{
		{"page", ""},
		{"name", "q=" + url.QueryEscape(family)},
		{"name-accent", "q=m%C3%BCller"},
		{"filters", "modality=CT&report=yes"},
	} {
		for _, htmx := range []bool{false, true} {
			name := cs.name
			if htmx {
				name += "-htmx"
			}
			b.Run(name, func(b *testing.B) {
				var ds []time.Duration
				for b.Loop() {
					// The bare client: testserver's Get also parses every page.
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/staff/?"+cs.query, nil)
					if htmx {
						req.Header.Set("HX-Request", "true")
					}
					t0 := time.Now()
					res, err := c.HTTP.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					ds = append(ds, time.Since(t0))
					if err != nil || res.StatusCode != http.StatusOK {
						b.Fatalf("status %d (%v)", res.StatusCode, err)
					}
				}
				testbench.Timings{Code: ds}.Report(b)
			})
		}
	}
}
