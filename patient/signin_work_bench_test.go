package patient_test

import (
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// roundTrips counts the queries bun sends (BEGIN and COMMIT included; a
// batch of statements sent as one message counts once). Prepared statements
// (database/sql's, e.g. the sign-in's bucket read) do not pass bun's hooks:
// the messages themselves are counted at the socket (pgSegments).
type roundTrips struct{ n, statements atomic.Int64 }

func (r *roundTrips) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (r *roundTrips) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	r.n.Add(1)
	r.statements.Add(int64(strings.Count(e.Query, ";\n") + 1))
}

// pgSegments is how many TCP segments with data this machine's sockets have
// sent to PostgreSQL at hostport so far (ss): every query message, prepared
// or not, is one (they are far below the loopback MSS). Connections closed
// meanwhile drop out of the sum, so measure while the pool keeps its own.
func pgSegments(tb testing.TB, hostport string) int64 {
	out, err := exec.Command("ss", "-tinH", "dst", hostport).Output()
	if err != nil {
		tb.Fatalf("ss (iproute2) counts the messages to PostgreSQL: %v", err)
	}
	var n int64
	for _, m := range regexp.MustCompile(`data_segs_out:(\d+)`).FindAllSubmatch(out, -1) {
		k, _ := strconv.ParseInt(string(m[1]), 10, 64)
		n += k
	}
	return n
}

// BenchmarkSignInWork is the work of one successful patient sign-in (number
// + birth date, a one-study bucket), one at a time so the figures do not
// depend on the machine's load: round trips to PostgreSQL and statements per
// sign-in, and the process's CPU time per sign-in (server and client: they
// run in this process), with -benchmem the bytes and allocations.
func BenchmarkSignInWork(b *testing.B) {
	f := newFixture(b)
	f.srv.App.Patient.IPThrottle = nil // as in BenchmarkSignInLoad
	rt := &roundTrips{}
	f.srv.DB.AddQueryHook(rt)
	var nums []refnum.Number
	for i := 0; i < 200; i++ {
		_, n := f.srv.MustBucket(b, f.staff, f.studies[:1], testserver.BucketSpec{})
		nums = append(nums, n)
	}
	c := f.srv.Client(b)
	c.Get("/")
	var cookie string
	for _, ck := range c.Jar.Cookies(mustURL(b, f.srv.URL)) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	bodies := make([]string, len(nums))
	for i, n := range nums {
		v := signInForm(n.Canonical(), birth)
		v.Set("_csrf", c.CSRF)
		bodies[i] = v.Encode()
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	dsn, err := url.Parse(f.srv.DSN)
	if err != nil {
		b.Fatal(err)
	}
	var before, after syscall.Rusage
	rt.n.Store(0)
	rt.statements.Store(0)
	segs := pgSegments(b, dsn.Host)
	b.ResetTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/p/signin", strings.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", f.srv.URL)
		req.Header.Set("Cookie", cookie)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			b.Fatalf("sign-in answered %d", res.StatusCode)
		}
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	segs = pgSegments(b, dsn.Host) - segs
	b.StopTimer()
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / time.Duration(b.N)
	// Messages bun did not see carry one prepared statement each.
	b.ReportMetric(float64(segs)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(rt.statements.Load()+segs-rt.n.Load())/float64(b.N), "statements/op")
	b.ReportMetric(float64(cpu.Microseconds()), "cpu-µs/op")
}
