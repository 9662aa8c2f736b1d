package patient_test

import (
	"context"
	"net/http"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// BenchmarkAddressLimit measures the per-address slow-down and the
// server-wide ceiling with the default settings (auth.DefaultPatientLimit):
//
//   - a sweep: one address tries unknown numbers over 200 parallel
//     connections at full speed for RADPASS_BENCH_SECONDS/2 seconds (default
//     15, at least three steps): how many tries were checked (the free ones, then one per step),
//     how many were slowed down, and how fast a slowed try is answered;
//   - the ceiling: right sign-ins from fresh addresses, below and past the
//     server-wide ceiling of refused tries (the counter set past it): the
//     median of three sign-ins in each case.
func BenchmarkAddressLimit(b *testing.B) {
	seconds, _ := strconv.Atoi(os.Getenv("RADPASS_BENCH_SECONDS"))
	if seconds <= 0 {
		seconds = 30
	}
	srv := testserver.New(b, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	dept := testserver.MustDepartment(b, srv.DB, "NORTH")
	staff := testserver.MustUser(b, srv.DB, "ann", database.RoleStaff, dept)
	bd := birth
	studies := []*database.Study{testserver.MustPatientStudy(b, srv.DB, dept, "P001", "Łukasik", "Zoë", &bd)}
	lim := srv.App.Patient.IPThrottle
	c := srv.Client(b)
	c.Get("/")
	var cookie string
	for _, ck := range c.Jar.Cookies(mustURL(b, srv.URL)) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}, "Origin": {srv.URL}, "X-Real-Ip": {"198.51.100.77"}}
	var targets []vegeta.Target
	for i := 0; i < 2000; i++ {
		n, _ := refnum.New()
		v := signInForm(n.Canonical(), birth)
		v.Set("_csrf", c.CSRF)
		targets = append(targets, vegeta.Target{Method: "POST", URL: srv.URL + "/p/signin", Body: []byte(v.Encode()), Header: hdr})
	}
	// At least three steps, so the slots past the free tries show.
	d := max(time.Duration(seconds)*time.Second/2, 3*lim.Step)
	b.ResetTimer()
	a := vegeta.NewAttacker(vegeta.Connections(200), vegeta.MaxConnections(200), vegeta.Workers(200), vegeta.MaxWorkers(200),
		vegeta.Redirects(vegeta.NoFollow), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	checked, slowed, other := 0, 0, 0
	var slowMetrics vegeta.Metrics
	for res := range a.Attack(roundRobin(targets, 0), vegeta.Rate{Freq: 0}, d, "sweep") {
		switch res.Code {
		case http.StatusUnprocessableEntity:
			checked++
		case http.StatusTooManyRequests:
			slowed++
			slowMetrics.Add(res)
		default:
			other++
		}
	}
	slowMetrics.Close()
	pastFree := float64(checked-lim.Free) / d.Minutes()
	b.Logf("sweep from one address, %v at full speed over 200 connections: %d checked (%d free, then %.1f/min; one per %v allows %.1f/min), %d slowed down (p50 %.2f ms, p99 %.2f ms), %d other",
		d, checked, lim.Free, pastFree, lim.Step, time.Minute.Seconds()/lim.Step.Seconds(), slowed, ms(slowMetrics.Latencies.P50), ms(slowMetrics.Latencies.P99), other)
	if other > 0 {
		b.Errorf("%d tries answered neither 422 nor 429", other)
	}

	// The ceiling: median time of a right sign-in from a fresh address.
	signIn := func(ip string) time.Duration {
		_, n := srv.MustBucket(b, staff, studies, testserver.BucketSpec{})
		cl := srv.Client(b)
		cl.Get("/", "X-Real-Ip", ip)
		start := time.Now()
		res, _ := cl.PostForm("/p/signin", signInForm(n.Canonical(), birth), "X-Real-Ip", ip)
		took := time.Since(start)
		if res.StatusCode != http.StatusSeeOther {
			b.Fatalf("right sign-in from %s: %d", ip, res.StatusCode)
		}
		return took
	}
	median := func(base int) time.Duration {
		var ts []time.Duration
		for i := 0; i < 3; i++ {
			ts = append(ts, signIn("203.0.113."+strconv.Itoa(base+i)))
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		return ts[len(ts)/2]
	}
	ctx := context.Background()
	if _, err := srv.DB.NewRaw(`DELETE FROM throttle WHERE key = ?`, lim.GlobalKey).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	below := median(10)
	if _, err := srv.DB.NewRaw(`INSERT INTO throttle (key, failures, window_start) VALUES (?, ?, now())`, lim.GlobalKey, lim.GlobalCeiling+1).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	past := median(20)
	b.StopTimer()
	b.Logf("server-wide ceiling %d refused tries per %v: a right sign-in takes %.2f ms below it, %.2f ms past it (every try waits %v)",
		lim.GlobalCeiling, lim.GlobalWindow, ms(below), ms(past), lim.GlobalDelay)
	b.ReportMetric(float64(checked), "sweep-checked")
	b.ReportMetric(pastFree, "past-free-checked/min")
	b.ReportMetric(ms(slowMetrics.Latencies.P99), "slowed-p99-ms")
	b.ReportMetric(ms(below), "below-ceiling-ms")
	b.ReportMetric(ms(past), "past-ceiling-ms")
}
