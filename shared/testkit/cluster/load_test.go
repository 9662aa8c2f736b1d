package cluster_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

var (
	csrfRe  = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	tokenRe = regexp.MustCompile(`name="form_token" value="([^"]+)"`)
)

// newHTTP is a fresh browser connecting from 127.0.0.<2+from%250>: nginx
// passes that address on (X-Real-IP), so the per-address sign-in limit sees
// patients at home, not 90 patients behind one address.
func newHTTP(from int) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+from%250))}}
	return &http.Client{Jar: jar, Timeout: 2 * time.Minute, Transport: &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches base+path and reads the whole body.
func get(hc *http.Client, base, path string) (int, string, error) {
	res, err := hc.Get(base + path)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// post sends a form as a browser on base would; it returns the status and Location.
func post(hc *http.Client, base, path string, form url.Values) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("Location"), err
}

// load is 100 concurrent clients through nginx: patients signing in,
// listing, viewing images and downloading; staff printing. Every request is
// timed; a request fails on a transport error or an unexpected status.
type load struct {
	base    string
	stop    chan struct{}
	wg      sync.WaitGroup
	done    atomic.Int64
	mu      sync.Mutex
	fails   []failure
	took    map[string][]time.Duration
	started time.Time
}

type failure struct {
	what       string
	start, end time.Time
	err        string
}

func (l *load) record(what string, start time.Time, err error) bool {
	end := time.Now()
	l.done.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.fails = append(l.fails, failure{what, start, end, err.Error()})
		return false
	}
	l.took[what] = append(l.took[what], end.Sub(start))
	return true
}

func expect(st, want int, err error) error {
	if err == nil && st != want {
		err = fmt.Errorf("status %d, want %d", st, want)
	}
	return err
}

// startLoad runs patients patient clients over the numbers and staff staff
// clients (users, signed in) printing, until stopLoad.
func startLoad(t *testing.T, f *fixture, numbers []refnum.Number, staff []*http.Client) *load {
	t.Helper()
	l := &load{base: f.cl.URL, stop: make(chan struct{}), took: map[string][]time.Duration{}, started: time.Now()}
	const clients, pacs = 100, 2
	patients := clients - len(staff) - pacs
	img := "/p/images/" + strconv.FormatInt(f.inst[0], 10)
	study := "/p/studies/" + strconv.FormatInt(f.studies[0].ID, 10)
	for i := 0; i < patients; i++ {
		l.wg.Go(func() {
			n := numbers[i%len(numbers)]
			var hc *http.Client
			for round := 0; ; round++ {
				if hc != nil {
					hc.CloseIdleConnections()
				}
				select {
				case <-l.stop:
					return
				default:
				}
				hc = newHTTP(i)
				s := time.Now()
				st, body, err := get(hc, l.base, "/")
				if !l.record("start page", s, expect(st, 200, err)) {
					continue
				}
				m := csrfRe.FindStringSubmatch(body)
				if m == nil {
					l.record("start page", s, fmt.Errorf("no CSRF token"))
					continue
				}
				form := signInForm(n.Canonical(), birth)
				form.Set("_csrf", m[1])
				s = time.Now()
				st, _, err = post(hc, l.base, "/p/signin", form)
				if !l.record("patient sign-in", s, expect(st, http.StatusSeeOther, err)) {
					continue
				}
				for _, p := range []struct{ what, path string }{{"studies", "/p/"}, {"study", study}, {"image view", img}} {
					s = time.Now()
					st, _, err = get(hc, l.base, p.path)
					l.record(p.what, s, expect(st, 200, err))
				}
				if round%4 == 0 {
					s = time.Now()
					st, _, err = get(hc, l.base, "/p/download")
					l.record("download", s, expect(st, 200, err))
				}
			}
		})
	}
	// PACS sending new images over STOW-RS (each its own object in S3).
	for i := 0; i < pacs; i++ {
		l.wg.Go(func() {
			hc := &http.Client{Timeout: 2 * time.Minute}
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				uid := fmt.Sprintf("2.25.9%d%d", time.Now().UnixNano(), i)
				file, err := synthBytes("PACS"+strconv.Itoa(i), uid, uid+".1.1", n)
				s := time.Now()
				st := 0
				if err == nil {
					st, err = stow(hc, l.base, f.token, file)
				}
				l.record("import (STOW-RS)", s, expect(st, http.StatusOK, err))
			}
		})
	}
	for _, hc := range staff {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				s := time.Now()
				st, body, err := get(hc, l.base, "/staff/print?"+f.studyQuery())
				if !l.record("print form", s, expect(st, 200, err)) {
					continue
				}
				c, tk := csrfRe.FindStringSubmatch(body), tokenRe.FindStringSubmatch(body)
				if c == nil || tk == nil {
					l.record("print form", s, fmt.Errorf("no CSRF or form token"))
					continue
				}
				s = time.Now()
				st, loc, err := post(hc, l.base, "/staff/print", f.printForm(tk[1], c[1]))
				if !l.record("print", s, expect(st, http.StatusSeeOther, err)) {
					continue
				}
				s = time.Now()
				st, _, err = get(hc, l.base, loc)
				l.record("print confirmation", s, expect(st, 200, err))
			}
		})
	}
	return l
}

// waitFor waits until n more requests are done since the call.
func (l *load) waitFor(n int64) {
	target := l.done.Load() + n
	for l.done.Load() < target {
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *load) stopLoad() time.Duration {
	close(l.stop)
	l.wg.Wait()
	return time.Since(l.started)
}

// report logs the requests, failures and latencies of each kind.
func (l *load) report(t *testing.T, took time.Duration) {
	t.Helper()
	var b strings.Builder
	total := 0
	kinds := make([]string, 0, len(l.took))
	for k := range l.took {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		d := l.took[k]
		slices.Sort(d)
		total += len(d)
		fmt.Fprintf(&b, "  %-20s %6d  p50 %6.1f ms  p99 %7.1f ms\n", k, len(d), ms(d[len(d)/2]), ms(d[len(d)*99/100]))
	}
	t.Logf("%d requests ok, %d failed in %.1f s (%.0f req/s)\n%s", total, len(l.fails), took.Seconds(), float64(total)/took.Seconds(), b.String())
	for i, fl := range l.fails {
		if i == 10 {
			break
		}
		t.Logf("failed: %s (%s)", fl.what, fl.err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// signedInStaff signs n staff users in through nginx.
func signedInStaff(t *testing.T, f *fixture, n int) []*http.Client {
	t.Helper()
	var out []*http.Client
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("staff%02d", i)
		testserver.MustUser(t, f.srv.DB, name, database.RoleStaff, f.dept)
		c := f.front.Client(t)
		c.SignIn(name, testserver.Password)
		out = append(out, &http.Client{Jar: c.Jar, Timeout: 2 * time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }})
	}
	return out
}

// patientNumbers prints n buckets for the patient (date-of-birth sign-in).
func patientNumbers(t testing.TB, f *fixture, n int) []refnum.Number {
	t.Helper()
	var out []refnum.Number
	for i := 0; i < n; i++ {
		_, num := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
		out = append(out, num)
	}
	return out
}

// consistent checks that nothing half-written stayed: every print has its
// studies and its audit row and every print audit row its bucket; every
// stored row's object is in the S3 bucket; and once the orphan sweep has
// run past its grace (the objects are aged: the load is over, no import is
// in flight), every object is named by a row. It returns how many objects the sweep
// removed (imports cut between the object and its row).
func consistent(t *testing.T, f *fixture) (swept int) {
	t.Helper()
	checks := map[string]string{
		"buckets without studies":           `SELECT count(*) FROM buckets b WHERE NOT EXISTS (SELECT 1 FROM bucket_studies s WHERE s.bucket_id = b.id)`,
		"buckets without a print audit row": `SELECT count(*) FROM buckets b WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.bucket_id = b.id AND a.action = 'bucket.print')`,
		"print audit rows without a bucket": `SELECT count(*) FROM audit_events a WHERE a.action = 'bucket.print' AND NOT EXISTS (SELECT 1 FROM buckets b WHERE b.id = a.bucket_id)`,
	}
	for what, q := range checks {
		if n := f.count(t, q); n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
	// The grace passes: every object is made older than it (versitygw
	// reports a file's mtime), then the sweep runs as serve's would.
	old := time.Now().Add(-ingest.OrphanGrace - time.Hour)
	for k := range storeKeys(t, f) {
		f.cl.S3Server.Age(t, f.cl.S3, storage.ObjectName(k), old)
	}
	swept, err := ingest.SweepOrphans(t.Context(), f.srv.DB, f.cl.Store(t), ingest.OrphanGrace)
	if err != nil {
		t.Fatal(err)
	}
	keys := storeKeys(t, f)
	var named []string
	if err := f.srv.DB.NewRaw(`SELECT storage_key FROM instances UNION SELECT report_pdf_key FROM studies WHERE report_pdf_key <> ''`).Scan(t.Context(), &named); err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, k := range named {
		rows[k] = true
		if _, ok := keys[k]; !ok {
			t.Errorf("row names %s, which is not in the S3 bucket", k)
		}
	}
	for k := range keys {
		if !rows[k] {
			t.Errorf("object %s is in the S3 bucket without a row after the sweep", k)
		}
	}
	if imported := f.count(t, `SELECT count(*) FROM instances`); imported <= len(f.inst) {
		t.Errorf("%d instances stored: the PACS clients imported nothing", imported)
	}
	t.Logf("%d objects in S3, each with its row; the sweep removed %d without one", len(keys), swept)
	return swept
}

// A rolling restart of both instances (SIGTERM, wait for the exit, start
// again) under 100 concurrent clients through nginx: no request fails.
// Then SIGKILL of one instance under the same load: only requests in
// flight at the kill fail, and nothing half-written stays.
func TestRestartsUnderLoadSystem(t *testing.T) {
	f := newFixture(t, 2)
	numbers := patientNumbers(t, f, 10)
	staff := signedInStaff(t, f, 10)
	f.exec(t, `DELETE FROM throttle`)

	t.Run("rolling restart loses nothing", func(t *testing.T) {
		l := startLoad(t, f, numbers, staff)
		l.waitFor(300)
		for i := range f.cl.Insts {
			if err := f.cl.Stop(i); err != nil {
				t.Errorf("instance %d did not end cleanly on SIGTERM: %v\n%s", i, err, f.cl.LogTail(i, 10))
			}
			f.cl.Restart(i)
			// The next instance goes only once nginx sends to this one again
			// (its fail_timeout is over): with both out, nginx has no live
			// upstream and answers 502.
			f.cl.WaitServing(i, f.cl.Served(i), 100)
		}
		l.waitFor(300)
		took := l.stopLoad()
		l.report(t, took)
		if len(l.fails) != 0 {
			t.Fatalf("%d requests failed during a rolling restart, want 0", len(l.fails))
		}
		if swept := consistent(t, f); swept != 0 {
			t.Errorf("a rolling restart left %d objects without a row", swept)
		}
	})

	t.Run("SIGKILL fails only the requests in flight", func(t *testing.T) {
		l := startLoad(t, f, numbers, staff)
		l.waitFor(300)
		f.cl.Kill(1)
		killed := time.Now() // requests sent after this find the instance gone
		// Requests in flight at the kill are those that started before it.
		l.waitFor(300)
		f.cl.Restart(1)
		f.cl.WaitServing(1, f.cl.Served(1), 100)
		took := l.stopLoad()
		l.report(t, took)
		for _, fl := range l.fails {
			if fl.start.After(killed) {
				t.Errorf("%s started %v after the kill and failed: %s", fl.what, fl.start.Sub(killed), fl.err)
			}
		}
		t.Logf("%d requests in flight at the kill failed", len(l.fails))
		// A kill between an import's object and its row may or may not
		// happen in a run: one such object is planted, so the sweep has at
		// least one to remove.
		if _, _, _, err := f.cl.Store(t).Put(t.Context(), strings.NewReader("an import cut before its row "+time.Now().String())); err != nil {
			t.Fatal(err)
		}
		if swept := consistent(t, f); swept < 1 {
			t.Errorf("the sweep removed %d objects, want at least the planted one", swept)
		}
	})
}
