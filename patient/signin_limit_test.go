package patient_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// unknownNumber is a well-formed reference number no bucket has.
func unknownNumber(t testing.TB) refnum.Number {
	t.Helper()
	n, err := refnum.New()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// 100 parallel refused tries from one address (more than three times the
// 30 free ones): exactly the free tries are checked (the reservation and the
// count are one statement), every other one is answered 429 with
// Retry-After, and the counter reads exactly the limit.
func TestAddressLimitParallelExact(t *testing.T) {
	f := newFixture(t)
	lim := f.srv.App.Patient.IPThrottle
	lim.Step = time.Hour // no slow slot opens during the burst
	c := f.srv.Client(t)
	c.Get("/")
	var cookie string
	for _, ck := range c.Jar.Cookies(mustURL(t, f.srv.URL)) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	const n = 100
	codes := make([]int, n)
	retry := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		form := signInForm(unknownNumber(t).Canonical(), birth)
		form.Set("_csrf", c.CSRF)
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/p/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", f.srv.URL)
			req.Header.Set("Cookie", cookie)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			codes[i], retry[i] = res.StatusCode, res.Header.Get("Retry-After")
		}()
	}
	wg.Wait()
	checked, slowed := 0, 0
	for i, code := range codes {
		switch code {
		case http.StatusUnprocessableEntity:
			checked++
		case http.StatusTooManyRequests:
			slowed++
			if s, err := strconv.Atoi(retry[i]); err != nil || s < 1 {
				t.Errorf("429 with Retry-After %q", retry[i])
			}
		default:
			t.Errorf("try %d answered %d", i, code)
		}
	}
	if checked != lim.Free || slowed != n-lim.Free {
		t.Fatalf("%d tries checked, %d slowed down; want exactly %d checked of %d", checked, slowed, lim.Free, n)
	}
	var counted, audited int
	ctx := context.Background()
	if err := f.srv.DB.NewRaw(`SELECT failures FROM throttle WHERE key = 'patient-ip:127.0.0.1'`).Scan(ctx, &counted); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ?`, audit.PatientSignInFail).Scan(ctx, &audited); err != nil {
		t.Fatal(err)
	}
	if counted != lim.Free || audited != lim.Free {
		t.Fatalf("counter %d, audited refusals %d; want exactly %d", counted, audited, lim.Free)
	}
}

// Behind an address past its free tries (a guest Wi-Fi where someone kept
// mistyping), a patient with the right number and birth date is told how
// long to wait, in their language, and gets in once that wait is over.
func TestAddressLimitRightAnswerGetsIn(t *testing.T) {
	f := newFixture(t)
	lim := f.srv.App.Patient.IPThrottle
	lim.Step = 2 * time.Second // one try per step past the free ones
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	typist := f.srv.Client(t)
	typist.Get("/")
	for i := 0; i < lim.Free; i++ {
		if res, _ := typist.PostForm("/p/signin", signInForm(unknownNumber(t).Canonical(), birth)); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("refused try %d answered %d", i+1, res.StatusCode)
		}
	}
	// A sweep past the free tries is slowed down: the same answer for every number.
	res, _ := typist.PostForm("/p/signin", signInForm(unknownNumber(t).Canonical(), birth))
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("try past the free ones: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}

	patient := f.srv.Client(t)
	patient.Get("/?lang=nl")
	form := signInForm(n.Canonical(), birth)
	form.Set("lang", "nl")
	res, body := patient.PostForm("/p/signin", form)
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right answer behind the busy address: %d, want 429 (a wait, not a lock)", res.StatusCode)
	}
	wait, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > int(lim.Step/time.Second) {
		t.Fatalf("Retry-After %q, want 1..%d seconds", res.Header.Get("Retry-After"), int(lim.Step/time.Second))
	}
	msg := i18n.T("nl", "patient.error.wait", "Seconds", wait)
	if !strings.Contains(body, msg) {
		t.Fatalf("the page does not say %q", msg)
	}
	time.Sleep(time.Duration(wait) * time.Second)
	res, _ = patient.PostForm("/p/signin", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("right answer after the stated wait of %d s: %d, want 303 (signed in)", wait, res.StatusCode)
	}
	if res, _ := patient.Get("/p/"); res.StatusCode != http.StatusOK {
		t.Fatalf("signed-in patient's list: %d", res.StatusCode)
	}
}

// IPv6 addresses are counted by their /64: a sweeper cannot step through the
// 2^64 addresses of its own line; another /64 has its own count.
func TestAddressLimitIPv6Per64(t *testing.T) {
	srv := testserver.New(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	lim := srv.App.Patient.IPThrottle
	lim.Free, lim.Step = 2, time.Hour
	c := srv.Client(t)
	c.Get("/")
	try := func(ip string) int {
		res, _ := c.PostForm("/p/signin", signInForm(unknownNumber(t).Canonical(), birth), "X-Real-Ip", ip)
		return res.StatusCode
	}
	for _, ip := range []string{"2001:db8:1:2::a", "2001:db8:1:2:ffff:ffff:ffff:ffff"} {
		if code := try(ip); code != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d, want a checked refusal", ip, code)
		}
	}
	if code := try("2001:db8:1:2::1:b"); code != http.StatusTooManyRequests {
		t.Fatalf("third address of the same /64: %d, want 429", code)
	}
	if code := try("2001:db8:1:3::a"); code != http.StatusUnprocessableEntity {
		t.Fatalf("another /64: %d, want its own count", code)
	}
	var keys []string
	if err := srv.DB.NewRaw(`SELECT key FROM throttle WHERE key LIKE 'patient-ip:%' ORDER BY key`).Scan(context.Background(), &keys); err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, " ") != "patient-ip:2001:db8:1:2::/64 patient-ip:2001:db8:1:3::/64" {
		t.Fatalf("keys %q", keys)
	}
}
