package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func auditCount(t *testing.T, srv *testserver.Server, action, actor string) int {
	t.Helper()
	n, err := srv.DB.NewSelect().Table("audit_events").Where("action = ? AND actor_name = ?", action, actor).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func signInError(t *testing.T, body string) string {
	t.Helper()
	return strings.TrimSpace(testserver.Doc(t, body).Find(`[data-testid="signin-error"]`).Text())
}

func TestSignInSuccess(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	c := srv.Client(t)
	doc := c.GetDoc("/staff/signin", http.StatusOK)
	if doc.Find(`form[action="/staff/signin"] input[name="_csrf"]`).Length() != 1 {
		t.Fatal("sign-in form has no CSRF field")
	}
	res, body := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/" {
		t.Fatalf("sign-in: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	doc = c.GetDoc("/staff/", http.StatusOK)
	if got := doc.Find(`[data-testid="user"]`).Text(); got != u.DisplayName {
		t.Fatalf("header shows user %q, want %q", got, u.DisplayName)
	}
	if n := auditCount(t, srv, audit.SignIn, "ann"); n != 1 {
		t.Fatalf("%d sign-in audit rows, want 1", n)
	}
	var row struct {
		ActorID      *int64 `bun:"actor_id"`
		DepartmentID *int64 `bun:"department_id"`
		IP           string `bun:"ip"`
		Details      string `bun:"details"`
	}
	if err := srv.DB.NewRaw(`SELECT actor_id, department_id, ip, details::text AS details FROM audit_events WHERE action = ?`, audit.SignIn).Scan(context.Background(), &row); err != nil {
		t.Fatal(err)
	}
	if row.ActorID == nil || *row.ActorID != u.ID || row.DepartmentID == nil || *row.DepartmentID != d.ID || row.IP == "" {
		t.Fatalf("audit row lacks actor, department or IP: %+v", row)
	}
	if strings.Contains(row.Details, testserver.Password) {
		t.Fatal("the password reached the audit trail")
	}
	// A signed-in user asking for the sign-in page is sent on.
	if res, _ := c.Get("/staff/signin"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in page for a signed-in user: %d", res.StatusCode)
	}
}

// Unknown user, wrong password and disabled account get the very same answer.
func TestSignInFailuresLookAlike(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	off := testserver.MustUser(t, srv.DB, "olga", database.RoleStaff, d)
	if _, err := srv.DB.NewUpdate().Model(off).Set("disabled = true").WherePK().Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password string
	}{
		{"unknown user", "nobody", testserver.Password},
		{"wrong password", "ann", "not-the-password"},
		{"disabled account, right password", "olga", testserver.Password},
		{"empty password", "ann", ""},
		{"empty username", "", testserver.Password},
		{"huge username", strings.Repeat("a", 500), testserver.Password},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := srv.Client(t)
			c.Get("/staff/signin")
			res, body := c.PostForm("/staff/signin", url.Values{"username": {tt.username}, "password": {tt.password}}, "Accept-Language", "en")
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", res.StatusCode)
			}
			msg := signInError(t, body)
			if msg != "Wrong username or password." {
				t.Fatalf("message %q", msg)
			}
			if first == "" {
				first = msg
			} else if msg != first {
				t.Fatalf("message %q differs from %q", msg, first)
			}
			if c.Cookie(sessionCookie) != nil {
				t.Fatal("a failed sign-in set a session cookie")
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control %q", cc)
			}
		})
	}
	if n := countSessions(t, srv); n != 0 {
		t.Fatalf("%d sessions after failed sign-ins", n)
	}
	// The message is translated.
	c := srv.Client(t)
	c.Get("/staff/signin")
	_, body := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {"wrong-wrong"}}, "Accept-Language", "nl")
	if msg := signInError(t, body); msg != "Verkeerde gebruikersnaam of wachtwoord." {
		t.Fatalf("Dutch message %q", msg)
	}
}

func TestSignInNormalisesUsername(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	c := srv.Client(t)
	c.SignIn("  ANN ", testserver.Password)
	if res, _ := c.Get("/staff/"); res.StatusCode != http.StatusOK {
		t.Fatalf("study list: %d", res.StatusCode)
	}
}

// Five failures lock the account name for 15 minutes, whatever its spelling;
// even the right password is refused meanwhile.
func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	c := srv.Client(t)
	c.Get("/staff/signin")
	spellings := []string{"ann", "ANN", " ann", "Ann ", "aNn"}
	for i, name := range spellings {
		res, body := c.PostForm("/staff/signin", url.Values{"username": {name}, "password": {"wrong-password"}}, "Accept-Language", "en")
		want := http.StatusUnprocessableEntity
		if i == 4 {
			want = http.StatusTooManyRequests
		}
		if res.StatusCode != want {
			t.Fatalf("failure %d (%q): status %d, want %d", i+1, name, res.StatusCode, want)
		}
		if i == 4 && !strings.Contains(signInError(t, body), "Too many failed attempts") {
			t.Fatalf("fifth failure says %q", signInError(t, body))
		}
	}
	res, body := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}})
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password while locked: %d\n%s", res.StatusCode, body)
	}
	var until string
	if err := srv.DB.NewRaw(`SELECT (locked_until - now())::text FROM throttle WHERE key = 'staff:ann|127.0.0.1'`).Scan(context.Background(), &until); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(until, "00:14:") && !strings.HasPrefix(until, "00:15:") {
		t.Fatalf("lock lasts %s, want 15 minutes", until)
	}
	if n := auditCount(t, srv, audit.SignInFail, "ann"); n != 5 {
		t.Fatalf("%d failure audit rows, want 5", n)
	}
	if n := auditCount(t, srv, audit.SignInLock, "ann"); n != 1 {
		t.Fatalf("%d locked audit rows, want 1", n)
	}
	// A locked unknown name answers the same way (no enumeration by lock).
	for i := 0; i < 6; i++ {
		res, _ = c.PostForm("/staff/signin", url.Values{"username": {"ghost"}, "password": {"x-wrong-x"}})
	}
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("unknown name after 6 failures: %d", res.StatusCode)
	}
	// Fifteen minutes later the right password works and clears the count.
	exec(t, srv, `UPDATE throttle SET locked_until = now() - interval '1 second', window_start = now() - interval '16 minutes' WHERE key = 'staff:ann|127.0.0.1'`)
	c.SignIn("ann", testserver.Password)
	var left int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM throttle WHERE key = 'staff:ann|127.0.0.1'`).Scan(context.Background(), &left); err != nil || left != 0 {
		t.Fatalf("throttle row left after success: %d (%v)", left, err)
	}
}

// Parallel wrong sign-ins are counted exactly, and no more than five of them
// ever reach the password check.
func TestSignInThrottleIsAtomic(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	const n = 20
	type prepared struct {
		cookie, token string
	}
	var ps []prepared
	for i := 0; i < n; i++ {
		res, body := testserver.Raw(t, http.MethodGet, srv.URL+"/staff/signin", "", nil)
		tok, _ := testserver.Doc(t, body).Find(`input[name="_csrf"]`).Attr("value")
		ps = append(ps, prepared{"radpass_csrf=" + cookieValue(setCookie(res, "radpass_csrf")), tok})
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			form := url.Values{"_csrf": {ps[i].token}, "username": {"ann"}, "password": {"wrong-password"}}
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
	// Tries 1-4 say "wrong", try 5 says "locked", tries 6-20 are refused unchecked.
	if count[http.StatusUnprocessableEntity] != 4 || count[http.StatusTooManyRequests] != 16 {
		t.Fatalf("statuses %v, want 4x422 and 16x429", count)
	}
	var failures int
	if err := srv.DB.NewRaw(`SELECT failures FROM throttle WHERE key = 'staff:ann|127.0.0.1'`).Scan(context.Background(), &failures); err != nil {
		t.Fatal(err)
	}
	// Only the checked wrong passwords count (the refused tries never
	// extend the lock, so they are not counted either).
	if failures != 5 {
		t.Fatalf("throttle counted %d failures, want 5", failures)
	}
	if got := auditCount(t, srv, audit.SignInFail, "ann"); got != 5 {
		t.Fatalf("%d password checks failed, want exactly 5", got)
	}
	if got := auditCount(t, srv, audit.SignInLock, "ann"); got != n-5 {
		t.Fatalf("%d refused-while-locked rows, want %d", got, n-5)
	}
}

// After sign-in the browser goes to `next` only when it is a path of the
// staff area of this site.
func TestSignInNextStaysOnSite(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	tests := []struct{ next, want string }{
		{"/staff/studies?q=x", "/staff/studies?q=x"},
		{"", "/staff/"},
		{"https://evil.example/staff/", "/staff/"},
		{"//evil.example/staff/", "/staff/"},
		{"/\\evil.example", "/staff/"},
		{"/staff/\\..\\x", "/staff/"},
		{"/\t/evil.example", "/staff/"},
		{"/staff/\n/x", "/staff/"},
		{"javascript:alert(1)", "/staff/"},
		{"/patient/", "/staff/"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			c := srv.Client(t)
			doc := c.GetDoc("/staff/signin?next="+url.QueryEscape(tt.next), http.StatusOK)
			if v, _ := doc.Find(`input[name="next"]`).Attr("value"); v != tt.want {
				t.Errorf("form carries next %q, want %q", v, tt.want)
			}
			res, body := c.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}, "next": {tt.next}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d\n%s", res.StatusCode, body)
			}
			if got := res.Header.Get("Location"); got != tt.want {
				t.Fatalf("redirect to %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkSignIn is one full staff sign-in over HTTP: throttle upsert,
// argon2id check, session insert, audit row.
func BenchmarkSignIn(b *testing.B) {
	srv := testserver.New(b)
	d := testserver.MustDepartment(b, srv.DB, "NORTH")
	if _, err := srv.DB.NewInsert().Model(&database.User{Username: "ann", Role: database.RoleStaff, DepartmentID: &d.ID, PasswordHash: benchHash(b)}).Exec(context.Background()); err != nil {
		b.Fatal(err)
	}
	c := srv.Client(b)
	c.Get("/staff/signin")
	form := url.Values{"username": {"ann"}, "password": {testserver.Password}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, _ := c.PostForm("/staff/signin", form)
		if res.StatusCode != http.StatusSeeOther {
			b.Fatalf("sign-in: %d", res.StatusCode)
		}
	}
}

func benchHash(b *testing.B) string {
	h, err := auth.HashPassword(testserver.Password)
	if err != nil {
		b.Fatal(err)
	}
	return h
}
