package patient_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// BenchmarkShareSignInLoad is the doctor's share sign-in (the right code
// on /s/code: share row lock, code hash, audit row, new session) under 200
// concurrent connections on loopback, with vegeta at a fixed rate
// (RADPASS_BENCH_RATE, default 200/s). Every share signs in once: 600 shares
// of 150 accesses (4 each, within the limits), each with its own session
// and code prepared through the real pages. All must answer 303 to /p/, and
// every share must read "opened" afterwards.
func BenchmarkShareSignInLoad(b *testing.B) {
	rate, _ := strconv.Atoi(os.Getenv("RADPASS_BENCH_RATE"))
	if rate <= 0 {
		rate = 200
	}
	f := newFixture(b)
	f.srv.App.Patient.IPThrottle = nil
	if err := f.srv.App.Buckets.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	const accesses, perAccess = 150, 4
	ctx := context.Background()
	studies := buckets.StudyIDs(f.studies)
	var targets []vegeta.Target
	for a := 0; a < accesses; a++ {
		bk, _ := f.srv.MustBucket(b, f.staff, f.studies, testserver.BucketSpec{})
		bk.Department = f.dept
		for s := 0; s < perAccess; s++ {
			to := "dr" + strconv.Itoa(a*perAccess+s) + "@example.org"
			r, errs := buckets.ShareForm{To: to, Studies: []string{strconv.FormatInt(studies[0], 10)}}.Check(f.srv.App.Buckets.Today(), bk, studies)
			if errs != nil {
				b.Fatal(errs)
			}
			ns, err := f.srv.App.Buckets.CreateShare(ctx, bk.ID, r, birth, "127.0.0.1")
			if err != nil {
				b.Fatal(err)
			}
			c := f.srv.Client(b)
			c.Get("/s/" + ns.Token)
			if res, _ := c.PostForm("/s/"+ns.Token, url.Values{}); res.StatusCode != http.StatusSeeOther {
				b.Fatalf("send code: %d", res.StatusCode)
			}
			c.Get("/s/code")
			msgs, err := (&notify.Outbox{DB: f.srv.DB}).Recent(ctx, 1)
			if err != nil || len(msgs) != 1 || msgs[0].To != to {
				b.Fatalf("no code for %s (%v)", to, err)
			}
			code := sixDigits.FindString(msgs[0].Text)
			var cookie string
			for _, ck := range c.Jar.Cookies(mustURL(b, f.srv.URL)) {
				cookie += ck.Name + "=" + ck.Value + "; "
			}
			targets = append(targets, vegeta.Target{Method: "POST", URL: f.srv.URL + "/s/code",
				Body:   []byte(url.Values{"code": {code}, "_csrf": {c.CSRF}}.Encode()),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Cookie": {cookie}, "Origin": {f.srv.URL}}})
		}
	}
	a := vegeta.NewAttacker(vegeta.Connections(200), vegeta.MaxConnections(200), vegeta.Workers(200), vegeta.MaxWorkers(200),
		vegeta.Redirects(vegeta.NoFollow), vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second))
	d := time.Duration(len(targets)) * time.Second / time.Duration(rate)
	var m vegeta.Metrics
	bad := 0
	b.ResetTimer()
	for res := range a.Attack(vegeta.NewStaticTargeter(targets...), vegeta.Rate{Freq: rate, Per: time.Second}, d, "share sign-in") {
		if res.Code != http.StatusSeeOther || res.Headers.Get("Location") != "/p/" {
			bad++
		}
		m.Add(res)
	}
	m.Close()
	b.StopTimer()
	b.Logf("share sign-in at %d/s: %d requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms, wrong answers %d, load %s",
		rate, m.Requests, ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Max), bad, loadavg())
	if bad > 0 {
		b.Errorf("%d requests got a wrong answer (%v)", bad, m.Errors)
	}
	var opened int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM shares WHERE first_opened_at IS NOT NULL`).Scan(ctx, &opened); err != nil || opened != int(m.Requests) {
		b.Errorf("%d shares opened after %d sign-ins (%v)", opened, m.Requests, err)
	}
	b.ReportMetric(ms(m.Latencies.P50), "p50-ms")
	b.ReportMetric(ms(m.Latencies.P99), "p99-ms")
}
