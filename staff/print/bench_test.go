package print_test

import (
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// BenchmarkPrintEndToEnd is PRINT REFERENCE NUMBER through HTTP on the real
// server and database, as "Print immediately" does it: the POST (validation,
// one transaction with bucket, studies, label, preferences and audit), the
// confirmation page and the letter PDF. Target: median < 30 ms.
func BenchmarkPrintEndToEnd(b *testing.B) {
	srv := testserver.New(b)
	d := testserver.MustDepartment(b, srv.DB, "NORTH")
	testserver.MustUser(b, srv.DB, "ann", database.RoleStaff, d)
	bd := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	s1 := testserver.MustPatientStudy(b, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	s2 := testserver.MustPatientStudy(b, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	c := srv.Client(b)
	c.SignIn("ann", testserver.Password)
	c.GetDoc("/staff/print?"+testserver.StudyQuery(s1, s2), http.StatusOK)
	form := (&testserver.PrintFixture{Studies: []*database.Study{s1, s2}}).ValidForm()
	form.Set("valid_until", time.Now().AddDate(0, 1, 0).Format("2006-01-02"))
	form.Set("print_now", "1")
	form.Set("_csrf", c.CSRF)
	// Raw requests: the test client parses every body with goquery (the PDF
	// too), which would be counted as server time.
	send := func(method, path string, body url.Values) *http.Response {
		var rd io.Reader
		if body != nil {
			rd = strings.NewReader(body.Encode())
		}
		req, err := http.NewRequest(method, srv.URL+path, rd)
		if err != nil {
			b.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", srv.URL)
		}
		res, err := c.HTTP.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		return res
	}

	for _, full := range []bool{false, true} {
		name := "post-only"
		if full {
			name = "post+confirmation+letter"
		}
		b.Run(name, func(b *testing.B) {
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				res := send(http.MethodPost, "/staff/print", form)
				if res.StatusCode != http.StatusSeeOther {
					b.Fatalf("print: %d", res.StatusCode)
				}
				if full {
					loc := res.Header.Get("Location")
					if r := send(http.MethodGet, loc, nil); r.StatusCode != http.StatusOK {
						b.Fatalf("confirmation: %d", r.StatusCode)
					}
					id := loc[len("/staff/print/"):]
					if j := len(id) - len("?open=1"); j > 0 && id[j:] == "?open=1" {
						id = id[:j]
					}
					if _, err := strconv.ParseInt(id, 10, 64); err != nil {
						b.Fatal(err)
					}
					if r := send(http.MethodGet, "/staff/print/"+id+"/letter?lang="+form.Get("language") /* the letter Print immediately opens */, nil); r.StatusCode != http.StatusOK {
						b.Fatalf("letter: %d", r.StatusCode)
					}
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "ms-p95")
		})
	}
}
