package patient_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testsmtp"
)

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// lastOutboxCode reads the newest code sent to dest from the dev outbox.
func lastOutboxCode(t *testing.T, srv *testserver.Server, dest string) string {
	t.Helper()
	msgs, err := (&notify.Outbox{DB: srv.DB}).Recent(t.Context(), 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == dest {
			if code := sixDigits.FindString(m.Text); code != "" {
				return code
			}
		}
	}
	t.Fatalf("no code for %s in the outbox", dest)
	return ""
}

func failuresOf(t *testing.T, srv *testserver.Server, id int64) (int, string) {
	t.Helper()
	var row struct {
		Failures int    `bun:"failures"`
		State    string `bun:"state"`
	}
	if err := srv.DB.NewRaw(`SELECT failures, state FROM buckets WHERE id = ?`, id).Scan(t.Context(), &row); err != nil {
		t.Fatal(err)
	}
	return row.Failures, row.State
}

// An e-mail bucket: birth date, then the code from the dev outbox (the
// make run demo has no SMTP), masked destination, one wrong code counted.
func TestEmailCodeThroughDevOutbox(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe.lukasik@example.org"})
	c := f.srv.Client(t)
	c.Get("/")
	res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/code" {
		t.Fatalf("sign-in answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	doc := c.GetDoc("/p/code", http.StatusOK)
	if sent := doc.Find("[data-testid=code-sent]").Text(); strings.Contains(sent, "zoe.lukasik@") || !strings.Contains(sent, "example.org") {
		t.Fatalf("destination not masked: %q", sent)
	}
	if res, _ := c.Get("/p/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("studies reachable before the code: %d", res.StatusCode)
	}
	code := lastOutboxCode(t, f.srv, "zoe.lukasik@example.org")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	res, body := c.PostForm("/p/code", url.Values{"code": {wrong}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Attempts left before the access is blocked: 4") {
		t.Fatalf("wrong code answered %d", res.StatusCode)
	}
	res, _ = c.PostForm("/p/code", url.Values{"code": {code[:3] + " " + code[3:]}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/" {
		t.Fatalf("right code answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	c.GetDoc("/p/", http.StatusOK)
	if fails, _ := failuresOf(t, f.srv, b.ID); fails != 0 {
		t.Fatalf("failures %d after the right code", fails)
	}
	// Single use: the same code no longer opens anything.
	c2 := f.srv.Client(t)
	c2.Get("/")
	c2.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if res, _ := c2.PostForm("/p/code", url.Values{"code": {code}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("a used code opened the bucket again")
	}
}

// Five wrong codes block; then even the right code and the right birth date
// are refused, and the patient is told whom to call.
func TestFiveWrongCodesBlock(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org"})
	c := f.srv.Client(t)
	c.Get("/")
	c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	code := lastOutboxCode(t, f.srv, "zoe@example.org")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	var last *http.Response
	var body string
	for i := 0; i < 5; i++ {
		c.Get("/p/code")
		last, body = c.PostForm("/p/code", url.Values{"code": {wrong}})
	}
	if last.StatusCode != http.StatusForbidden || !strings.Contains(body, "blocked") {
		t.Fatalf("fifth wrong code answered %d", last.StatusCode)
	}
	if fails, state := failuresOf(t, f.srv, b.ID); fails != 5 || state != database.BucketBlocked {
		t.Fatalf("failures %d state %s", fails, state)
	}
	if res, _ := c.PostForm("/p/code", url.Values{"code": {code}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("the right code opened a blocked bucket")
	}
	c3 := f.srv.Client(t)
	c3.Get("/")
	res, body := c3.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "blocked") {
		t.Fatalf("right birth date on a blocked bucket answered %d", res.StatusCode)
	}
}

// "Send a new code" within a minute is refused; the counter never resets.
func TestResendCooldownKeepsCounter(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org"})
	c := f.srv.Client(t)
	c.Get("/")
	c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	c.Get("/p/code")
	c.PostForm("/p/code", url.Values{"code": {"999999"}})
	c.Get("/p/code")
	res, body := c.PostForm("/p/code/resend", nil)
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "less than a minute ago") {
		t.Fatalf("quick resend answered %d", res.StatusCode)
	}
	if fails, _ := failuresOf(t, f.srv, b.ID); fails != 1 {
		t.Fatalf("failures %d after a resend attempt, want 1", fails)
	}
}

// The e-mail really arrives at a real SMTP server (Mailpit) with a text
// and an HTML part in the bucket's language, and its code opens the bucket.
func TestEmailCodeThroughRealSMTP(t *testing.T) {
	mail := testsmtp.Start(t)
	srv := testserver.New(t, func(c *config.Config) {
		c.Notify.SMTPHost, c.Notify.SMTPPort, c.Notify.SMTPTLS, c.Notify.SMTPFrom = mail.Host, mail.Port, "none", "RadPass <noreply@radpass.test>"
	})
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	bd := birth
	st := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	_, n := srv.MustBucket(t, u, []*database.Study{st}, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org", Language: "de"})
	c := srv.Client(t)
	c.Get("/")
	c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	var msgs []testsmtp.Message
	for deadline := time.Now().Add(10 * time.Second); len(msgs) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		msgs = mail.To(t, "zoe@example.org")
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages arrived", len(msgs))
	}
	code := sixDigits.FindString(msgs[0].Text)
	if code == "" || !strings.Contains(msgs[0].HTML, code) {
		t.Fatalf("message without the code: %q", msgs[0].Text)
	}
	if !strings.Contains(msgs[0].Text+msgs[0].Subject, "Code") {
		t.Fatalf("message not in German: %q / %q", msgs[0].Subject, msgs[0].Text)
	}
	if res, _ := c.PostForm("/p/code", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code from the e-mail answered %d", res.StatusCode)
	}
}

// fakeVonage answers like Vonage's SMS API; status is what it reports.
type fakeVonage struct {
	mu     sync.Mutex
	forms  []url.Values
	status string
}

func (v *fakeVonage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/sms/json" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	v.mu.Lock()
	v.forms = append(v.forms, r.PostForm)
	status := v.status
	v.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"message-count": "1", "messages": []map[string]string{{"to": r.PostForm.Get("to"), "status": status, "error-text": map[bool]string{true: "", false: "Throttled"}[status == "0"]}}})
}

// An SMS bucket: the code goes to the number on file through the Vonage
// API; a refused send tells the patient to try later and counts nothing.
func TestSMSCodeThroughVonage(t *testing.T) {
	fake := &fakeVonage{status: "1"}
	api := httptest.NewServer(fake)
	defer api.Close()
	srv := testserver.New(t, func(c *config.Config) {
		c.Notify.VonageAPIKey, c.Notify.VonageAPISecret, c.Notify.VonageBaseURL, c.Notify.SMSFrom = "key", "secret", api.URL, "RadPass"
	})
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	bd := birth
	st := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	b, n := srv.MustBucket(t, u, []*database.Study{st}, testserver.BucketSpec{Verification: database.VerifySMS, Destination: "+32470123489"})
	c := srv.Client(t)
	c.Get("/")
	res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if loc := res.Header.Get("Location"); loc != "/p/code?notice=notsent" {
		t.Fatalf("refused send: redirected to %q", loc)
	}
	doc := c.GetDoc("/p/code?notice=notsent", http.StatusOK)
	if !strings.Contains(doc.Find("[data-testid=code-notice]").Text(), "could not be sent") {
		t.Fatal("the patient is not told the code could not be sent")
	}
	if fails, _ := failuresOf(t, srv, b.ID); fails != 0 {
		t.Fatalf("a refused send counted %d failures", fails)
	}
	fake.mu.Lock()
	fake.status = "0"
	fake.mu.Unlock()
	res, _ = c.PostForm("/p/code/resend", nil) // a failed send is no cooldown
	if res.StatusCode != http.StatusOK {
		t.Fatalf("resend after a failed send answered %d", res.StatusCode)
	}
	fake.mu.Lock()
	last := fake.forms[len(fake.forms)-1]
	fake.mu.Unlock()
	if last.Get("to") != "32470123489" || last.Get("api_key") != "key" || last.Get("from") != "RadPass" {
		t.Fatalf("Vonage request %v", last)
	}
	code := sixDigits.FindString(last.Get("text"))
	if res, _ := c.PostForm("/p/code", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code from the SMS answered %d", res.StatusCode)
	}
}

// A second sign-in within the cooldown (a double tap on a slow phone) says
// a code was sent a moment ago, not that it could not be sent, and that
// code still opens the bucket.
func TestSecondSignInWithinCooldownKeepsTheCode(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org"})
	c := f.srv.Client(t)
	c.Get("/")
	c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	code := lastOutboxCode(t, f.srv, "zoe@example.org")
	c = f.srv.Client(t)
	c.Get("/")
	res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	res, body := c.Get(res.Header.Get("Location"))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "less than a minute ago") || strings.Contains(body, "could not be sent") {
		t.Fatalf("code page after a second sign-in answered %d: %s", res.StatusCode, testserver.Doc(t, body).Find("main").Text())
	}
	if res, _ := c.PostForm("/p/code", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the code of the first sign-in answered %d", res.StatusCode)
	}
}
