package patient_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// queryLog keeps every query's start and duration, as the server's pool
// saw it (BEGIN includes the wait for a pool connection).
type queryLog struct {
	mu sync.Mutex
	qs []loggedQuery
}

type loggedQuery struct {
	start time.Time
	dur   time.Duration
	what  string
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (l *queryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	q := e.Query
	if i := strings.IndexAny(q, "\n("); i > 0 {
		q = q[:i]
	}
	if len(q) > 40 {
		q = q[:40]
	}
	d := time.Since(e.StartTime)
	l.mu.Lock()
	l.qs = append(l.qs, loggedQuery{e.StartTime, d, q})
	l.mu.Unlock()
}

// BenchmarkSignInTail looks for where the slowest sign-ins at a fixed rate
// spend their time: every query's duration as the pool saw it, how late a
// 5 ms ticker in the same process fires (the Go process not running), and
// PostgreSQL's backends every 50 ms (wait events, states). It prints the
// windows in which sign-ins took over RADPASS_BENCH_SLOW_MS (default 100)
// with what each source saw in them. Same load as BenchmarkSignInLoad's
// fixed-rate run (RADPASS_BENCH_RATE, RADPASS_BENCH_SECONDS).
func BenchmarkSignInTail(b *testing.B) {
	seconds, _ := strconv.Atoi(os.Getenv("RADPASS_BENCH_SECONDS"))
	if seconds <= 0 {
		seconds = 20
	}
	rate, _ := strconv.Atoi(os.Getenv("RADPASS_BENCH_RATE"))
	if rate <= 0 {
		rate = 300
	}
	slowMS, _ := strconv.Atoi(os.Getenv("RADPASS_BENCH_SLOW_MS"))
	if slowMS <= 0 {
		slowMS = 100
	}
	slow := time.Duration(slowMS) * time.Millisecond
	f := newFixture(b)
	f.srv.App.Patient.IPThrottle = nil
	ql := &queryLog{}
	// As `radpass serve` does before it listens.
	if err := f.srv.App.Buckets.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	f.srv.DB.AddQueryHook(ql)
	var nums []refnum.Number
	for i := 0; i < 400; i++ {
		_, n := f.srv.MustBucket(b, f.staff, f.studies, testserver.BucketSpec{})
		nums = append(nums, n)
	}
	c := f.srv.Client(b)
	c.Get("/")
	var cookie string
	for _, ck := range c.Jar.Cookies(mustURL(b, f.srv.URL)) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}, "Origin": {f.srv.URL}}
	var targets []vegeta.Target
	for _, n := range nums {
		v := signInForm(n.Canonical(), birth)
		v.Set("_csrf", c.CSRF)
		targets = append(targets, vegeta.Target{Method: "POST", URL: f.srv.URL + "/p/signin", Body: []byte(v.Encode()), Header: hdr})
	}

	// PostgreSQL's side, from a connection of its own.
	mon, err := database.Open(context.Background(), f.srv.DSN)
	if err != nil {
		b.Fatal(err)
	}
	defer mon.Close()
	type sample struct {
		at    time.Time
		lines []string
	}
	var samples []sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			var rows []struct {
				W string `bun:"w"`
				N int    `bun:"n"`
			}
			at := time.Now()
			_ = mon.NewRaw(`SELECT coalesce(wait_event_type,'CPU')||'/'||coalesce(wait_event,'-')||' '||state AS w, count(*) AS n
				FROM pg_stat_activity WHERE backend_type = 'client backend' AND state <> 'idle' AND pid <> pg_backend_pid()
				GROUP BY 1 ORDER BY 2 DESC`).Scan(context.Background(), &rows)
			var ls []string
			for _, r := range rows {
				ls = append(ls, fmt.Sprintf("%d×%s", r.N, r.W))
			}
			samples = append(samples, sample{at, ls})
		}
	}()
	// The Go process's own stalls: a ticker that fires late.
	type late struct {
		at time.Time
		by time.Duration
	}
	var lates []late
	go func() {
		defer wg.Done()
		const every = 5 * time.Millisecond
		last := time.Now()
		for {
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
			now := time.Now()
			if d := now.Sub(last) - every; d > 20*time.Millisecond {
				lates = append(lates, late{last, d})
			}
			last = now
		}
	}()

	a := vegeta.NewAttacker(vegeta.Connections(200), vegeta.MaxConnections(200), vegeta.Workers(200), vegeta.MaxWorkers(200),
		vegeta.Redirects(vegeta.NoFollow), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	var m vegeta.Metrics
	var slowRes []*vegeta.Result
	pool := f.srv.DB.Stats()
	b.ResetTimer()
	begin := time.Now()
	for res := range a.Attack(roundRobin(targets, 0), vegeta.Rate{Freq: rate, Per: time.Second}, time.Duration(seconds)*time.Second, "tail") {
		if res.Code != http.StatusSeeOther {
			b.Errorf("sign-in answered %d (%s)", res.Code, res.Error)
		}
		m.Add(res)
		if res.Latency > slow {
			slowRes = append(slowRes, res)
		}
	}
	b.StopTimer()
	m.Close()
	close(stop)
	wg.Wait()
	after := f.srv.DB.Stats()
	b.Logf("%d sign-ins at %d/s: p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d over %v; pool waits %d (%.0f ms in all); load %s",
		m.Requests, rate, ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Max), len(slowRes), slow,
		after.WaitCount-pool.WaitCount, ms(after.WaitDuration-pool.WaitDuration), loadavg())
	rel := func(t time.Time) string { return fmt.Sprintf("%7.3fs", t.Sub(begin).Seconds()) }

	// Slow requests, grouped into windows of overlapping time.
	sort.Slice(slowRes, func(i, j int) bool { return slowRes[i].Timestamp.Before(slowRes[j].Timestamp) })
	type window struct {
		from, to time.Time
		n        int
		worst    time.Duration
	}
	var ws []window
	for _, r := range slowRes {
		end := r.Timestamp.Add(r.Latency)
		if len(ws) > 0 && !r.Timestamp.After(ws[len(ws)-1].to) {
			w := &ws[len(ws)-1]
			w.n++
			if end.After(w.to) {
				w.to = end
			}
			w.worst = max(w.worst, r.Latency)
			continue
		}
		ws = append(ws, window{r.Timestamp, end, 1, r.Latency})
	}
	ql.mu.Lock()
	qs := ql.qs
	ql.mu.Unlock()
	// Per kind of query: how many, and how many took over 20 ms.
	kinds := map[string][2]int{}
	for _, q := range qs {
		if q.start.Before(begin) {
			continue
		}
		k := kinds[q.what]
		k[0]++
		if q.dur > 20*time.Millisecond {
			k[1]++
		}
		kinds[q.what] = k
	}
	for k, v := range kinds {
		b.Logf("query %-40q %6d, %4d over 20 ms", k, v[0], v[1])
	}
	for i, w := range ws {
		if i >= 15 {
			b.Logf("... %d more windows", len(ws)-i)
			break
		}
		b.Logf("window %s–%s: %d slow sign-ins, worst %.0f ms", rel(w.from), rel(w.to), w.n, ms(w.worst))
		var worst []loggedQuery
		for _, q := range qs {
			if q.dur > 20*time.Millisecond && q.start.Before(w.to) && q.start.Add(q.dur).After(w.from) {
				worst = append(worst, q)
			}
		}
		sort.Slice(worst, func(i, j int) bool { return worst[i].dur > worst[j].dur })
		for j, q := range worst {
			if j >= 6 {
				b.Logf("    ... %d more queries over 20 ms", len(worst)-j)
				break
			}
			b.Logf("    query %s +%.0f ms %s", rel(q.start), ms(q.dur), q.what)
		}
		for _, l := range lates {
			if l.at.Before(w.to) && l.at.Add(l.by).After(w.from) {
				b.Logf("    Go process stalled %s for %.0f ms", rel(l.at), ms(l.by))
			}
		}
		for _, s := range samples {
			if !s.at.Before(w.from) && s.at.Before(w.to) {
				b.Logf("    pg %s %s", rel(s.at), strings.Join(s.lines, ", "))
			}
		}
	}
	b.Logf("Go process stalls over 20 ms in the whole run: %d", len(lates))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
