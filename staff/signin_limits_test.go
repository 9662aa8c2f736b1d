package staff_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/testserver"
)

// 80 parallel anonymous sign-ins with random account names from one address:
// the address limit (50) is reserved before the password hash, so at most 50
// of them ever hash (each hash holds 64 MiB); the rest are refused unchecked
// or, when the hash slots stay full, told the server is busy. Before, the
// limit was checked before and counted after the hash, and all 80 hashed.
//
// Not parallel: the hash slots are process-wide, and this burst would make the
// other tests' sign-ins answer 503.
func TestSignInBurstCannotAllHash(t *testing.T) {
	srv := testserver.New(t)
	const n = 80
	type prepared struct{ cookie, token string }
	ps := make([]prepared, n)
	for i := range ps {
		res, body := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/signin", "", nil)
		tok, _ := testserver.Doc(t, body).Find(`input[name="_csrf"]`).Attr("value")
		ps[i] = prepared{"radpass_csrf=" + cookieValue(setCookie(res, "radpass_csrf")), tok}
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			form := url.Values{"_csrf": {ps[i].token}, "username": {fmt.Sprintf("nobody-%d-x", i)}, "password": {"wrong-password"}}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/staff/signin", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", ps[i].cookie)
			req.Header.Set("Origin", srv.URL)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}(i)
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	for s := range count {
		if s != http.StatusUnprocessableEntity && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Fatalf("statuses %v: want only 422, 429 and 503", count)
		}
	}
	if count[http.StatusTooManyRequests] < n-50 {
		t.Fatalf("statuses %v: want at least %d refused by the address limit", count, n-50)
	}
	hashed := 0
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ?`, audit.SignInFail).Scan(context.Background(), &hashed); err != nil {
		t.Fatal(err)
	}
	if hashed > 50 || hashed != count[http.StatusUnprocessableEntity] {
		t.Fatalf("%d password checks ran (%d answered 422), want at most 50", hashed, count[http.StatusUnprocessableEntity])
	}
}

// Wrong passwords from one address lock that address out of the account,
// never the account: the radiographer at another workstation signs in. Past
// the account-wide ceiling every try is slowed down, still never locked.
func TestSignInLockIsPerAccountAndAddress(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	srv.App.Staff.Throttle.Ceiling = 7
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", store.RoleStaff, d)
	attacker := srv.Client(t)
	attacker.Get("/staff/signin", "X-Real-Ip", "203.0.113.9")
	for i := 0; i < 6; i++ {
		res, _ := attacker.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {"wrong-password"}}, "X-Real-Ip", "203.0.113.9")
		want := http.StatusUnprocessableEntity
		if i >= 4 {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want {
			t.Fatalf("attacker's try %d: status %d, want %d", i+1, res.StatusCode, want)
		}
	}
	// Another address: two wrong tries and the right one still work.
	ann := srv.Client(t)
	ann.Get("/staff/signin", "X-Real-Ip", "10.1.2.3")
	for i := 0; i < 2; i++ {
		if res, _ := ann.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {"typo-password"}}, "X-Real-Ip", "10.1.2.3"); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("ann's typo %d: status %d, want 422", i+1, res.StatusCode)
		}
	}
	res, body := ann.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}}, "X-Real-Ip", "10.1.2.3")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ann at her own workstation: status %d, want 303 (locked out by someone else?)\n%.300s", res.StatusCode, body)
	}
	var acct int
	if err := srv.DB.NewRaw(`SELECT failures FROM throttle WHERE key = 'staff-acct:ann'`).Scan(context.Background(), &acct); err != nil {
		t.Fatal(err)
	}
	// 5 checked + 2 typos were counted; the refused try and the success not.
	if acct != 7 {
		t.Fatalf("account-wide count %d, want 7", acct)
	}
	if got := srv.App.Staff.Throttle.DelayFor(acct + 2); got <= 0 {
		t.Fatalf("past the ceiling a try waits %v, want a delay", got)
	}
}
