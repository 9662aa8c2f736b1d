package patient_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// BenchmarkSignInLoad is the patient sign-in (number + date of birth) under
// 200 concurrent connections on loopback, with vegeta: a 30 s run (set
// RADPASS_BENCH_SECONDS) at a fixed rate (RADPASS_BENCH_RATE, default 300/s)
// and a closed-loop run at full speed, next to a plain Fiber handler on the
// same machine in the same run. Some buckets take exactly 3 wrong birth
// dates each: their counters must read 3 afterwards (parallel updates lose
// nothing). The per-address limit is off here: all load comes from 127.0.0.1.
func BenchmarkSignInLoad(b *testing.B) {
	seconds, _ := strconv.Atoi(os.Getenv("RADPASS_BENCH_SECONDS"))
	if seconds <= 0 {
		seconds = 30
	}
	rate, _ := strconv.Atoi(os.Getenv("RADPASS_BENCH_RATE"))
	if rate <= 0 {
		rate = 300
	}
	f := newFixture(b)
	f.srv.App.Patient.IPThrottle = nil
	// As `radpass serve` does before it listens.
	if err := f.srv.App.Buckets.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	const good, victims = 400, 50
	var nums []refnum.Number
	for i := 0; i < good+victims; i++ {
		_, n := f.srv.MustBucket(b, f.staff, f.studies, testserver.BucketSpec{})
		nums = append(nums, n)
	}
	// One browser's CSRF cookie and token for every request (double submit).
	c := f.srv.Client(b)
	c.Get("/")
	var cookie string
	for _, ck := range c.Jar.Cookies(mustURL(b, f.srv.URL)) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}, "Origin": {f.srv.URL}}
	body := func(n refnum.Number, d time.Time) []byte {
		v := signInForm(n.Canonical(), d)
		v.Set("_csrf", c.CSRF)
		return []byte(v.Encode())
	}
	wrong := birth.AddDate(0, 0, 1)
	var targets []vegeta.Target
	for round := 0; round < 3; round++ {
		for _, n := range nums[good:] {
			targets = append(targets, vegeta.Target{Method: "POST", URL: f.srv.URL + "/p/signin", Body: body(n, wrong), Header: hdr})
		}
	}
	for _, n := range nums[:good] {
		targets = append(targets, vegeta.Target{Method: "POST", URL: f.srv.URL + "/p/signin", Body: body(n, birth), Header: hdr})
	}
	var poolWaits []int64 // per attack, in order
	attack := func(name string, tr vegeta.Targeter, pacer vegeta.Pacer, d time.Duration, check func(*vegeta.Result) bool) vegeta.Metrics {
		a := vegeta.NewAttacker(vegeta.Connections(200), vegeta.MaxConnections(200), vegeta.Workers(200), vegeta.MaxWorkers(200),
			vegeta.Redirects(vegeta.NoFollow), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
		var m vegeta.Metrics
		bad := 0
		pool := f.srv.DB.Stats()
		for res := range a.Attack(tr, pacer, d, name) {
			if !check(res) {
				bad++
			}
			m.Add(res)
		}
		m.Close()
		after := f.srv.DB.Stats()
		poolWaits = append(poolWaits, after.WaitCount-pool.WaitCount)
		b.Logf("%-22s %7d requests %7.0f/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms  wrong answers %d  pool waits %d (%.0f ms in all)  load %s",
			name, m.Requests, m.Throughput, ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Max), bad,
			after.WaitCount-pool.WaitCount, ms(after.WaitDuration-pool.WaitDuration), loadavg())
		if bad > 0 {
			b.Errorf("%s: %d requests got a wrong answer (%v)", name, bad, m.Errors)
		}
		return m
	}
	okSignIn := func(r *vegeta.Result) bool {
		return r.Code == http.StatusSeeOther || r.Code == http.StatusUnprocessableEntity
	}
	d := time.Duration(seconds) * time.Second

	b.ResetTimer()
	fixed := attack(fmt.Sprintf("sign-in at %d/s", rate), roundRobin(targets, victims*3), vegeta.Rate{Freq: rate, Per: time.Second}, d, okSignIn)
	full := attack("sign-in, full speed", roundRobin(targets[victims*3:], 0), vegeta.Rate{Freq: 0}, d/3, okSignIn)
	b.StopTimer()

	// The same load on a bare Fiber handler: the floor of this machine.
	plain := fiber.New()
	plain.Post("/p/signin", func(c fiber.Ctx) error { return c.SendStatus(http.StatusSeeOther) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = plain.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	// Bounded: vegeta's keep-alive connections may still be open, and an
	// unbounded Shutdown waits for them (a run hung here).
	defer func() { _ = plain.ShutdownWithTimeout(5 * time.Second) }()
	bare := []vegeta.Target{{Method: "POST", URL: "http://" + ln.Addr().String() + "/p/signin", Body: targets[0].Body, Header: hdr}}
	pfixed := attack(fmt.Sprintf("plain Fiber at %d/s", rate), vegeta.NewStaticTargeter(bare...), vegeta.Rate{Freq: rate, Per: time.Second}, d/3, okSignIn)
	pfull := attack("plain Fiber, full speed", vegeta.NewStaticTargeter(bare...), vegeta.Rate{Freq: 0}, d/3, okSignIn)
	b.Logf("ratio sign-in / plain Fiber: p99 at %d/s %.1fx, throughput at full speed %.2fx", rate,
		float64(fixed.Latencies.P99)/float64(pfixed.Latencies.P99), full.Throughput/pfull.Throughput)
	b.ReportMetric(ms(fixed.Latencies.P50), "p50-ms")
	b.ReportMetric(ms(fixed.Latencies.P99), "p99-ms")
	b.ReportMetric(full.Throughput, "max-req/s")
	b.ReportMetric(ms(full.Latencies.P99), "full-p99-ms")
	b.ReportMetric(float64(fixed.Latencies.P99)/float64(pfixed.Latencies.P99), "p99-x-plain")
	b.ReportMetric(full.Throughput/pfull.Throughput, "rate-x-plain")
	b.ReportMetric(float64(poolWaits[0]+poolWaits[1]), "pool-waits")

	// Exact counters: every victim took exactly 3 wrong birth dates, and the
	// full-speed run (victims excluded) counted none.
	var wrongCounts []int
	for _, n := range nums[good:] {
		var failures int
		if err := f.srv.DB.NewRaw(`SELECT failures FROM buckets WHERE ref_hash = ?`, refnum.Hash(f.srv.Config.SecretKey, n)).Scan(context.Background(), &failures); err != nil {
			b.Fatal(err)
		}
		wrongCounts = append(wrongCounts, failures)
	}
	for i, got := range wrongCounts {
		if got != 3 {
			b.Fatalf("victim %d: failures = %d, want exactly 3", i, got)
		}
	}
	var blocked int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM buckets WHERE state = ?`, database.BucketBlocked).Scan(context.Background(), &blocked); err != nil || blocked != 0 {
		b.Fatalf("%d buckets blocked (%v)", blocked, err)
	}
	b.Logf("counters exact: %d buckets with exactly 3 failures, none blocked", len(wrongCounts))
}

// roundRobin serves targets in order, forever, skipping the first skip
// targets after the first pass (the wrong birth dates are sent once only).
func roundRobin(ts []vegeta.Target, skip int) vegeta.Targeter {
	i := 0
	return func(t *vegeta.Target) error {
		if i >= len(ts) {
			i = skip
			if skip == 0 {
				i = 0
			}
		}
		*t = ts[i]
		i++
		return nil
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mustURL(tb testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
