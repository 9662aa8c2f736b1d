package patient_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

var birth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

type fixture struct {
	srv     *testserver.Server
	dept    *database.Department
	staff   *database.User
	studies []*database.Study
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	bd := birth
	s1 := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	s2 := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	return &fixture{srv: srv, dept: d, staff: u, studies: []*database.Study{s1, s2}}
}

func signInForm(ref string, d time.Time) url.Values {
	return url.Values{"ref": {ref}, "dob_day": {d.Format("2")}, "dob_month": {d.Format("1")}, "dob_year": {d.Format("2006")}}
}

// The QR code's link prefills the number and the letter's language.
func TestStartPageFromQRCode(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	c := f.srv.Client(t)
	doc := c.GetDoc("/?ref="+n.Canonical()+"&lang=nl", http.StatusOK)
	if v, _ := doc.Find("#ref").Attr("value"); v != n.Canonical() {
		t.Fatalf("ref prefilled with %q", v)
	}
	if lang, _ := doc.Find("html").Attr("lang"); lang != "nl" {
		t.Fatalf("page language %q, want nl from the QR code", lang)
	}
	if doc.Find("#dob-day").Length() != 1 || doc.Find("#dob-month option").Length() != 13 || doc.Find("#dob-year").Length() != 1 {
		t.Fatal("date of birth is not asked as day / month / year")
	}
	if !strings.Contains(doc.Find("#dob-month").Text(), "maart") {
		t.Fatal("month names are not Dutch")
	}
}

// Switching language on the page the QR code opened keeps the number and
// the choice: the link's ?lang= does not override it on the way back.
func TestLanguageSwitchOnQRPage(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	c := f.srv.Client(t)
	doc := c.GetDoc("/?ref="+n.Canonical()+"&lang=nl", http.StatusOK)
	back, _ := doc.Find("input[name=back]").Attr("value")
	res, _ := c.PostForm("/language", url.Values{"lang": {"de"}, "back": {back}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || strings.Contains(loc, "lang=") || !strings.Contains(loc, n.Canonical()) {
		t.Fatalf("language switch from %q answered %d -> %q", back, res.StatusCode, loc)
	}
	doc = c.GetDoc(loc, http.StatusOK)
	if lang, _ := doc.Find("html").Attr("lang"); lang != "de" {
		t.Fatalf("page language %q after choosing de", lang)
	}
	if v, _ := doc.Find("#ref").Attr("value"); v != n.Canonical() {
		t.Fatalf("ref prefilled with %q after the switch", v)
	}
}

// A dob bucket opens with number and birth date, typed forgivingly.
func TestSignInWithBirthDate(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	c := f.srv.Client(t)
	c.Get("/")
	typed := strings.ToLower(strings.Join(strings.Split(n.Grouped(), "-"), " - "))
	res, _ := c.PostForm("/p/signin", signInForm(typed, birth))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/" {
		t.Fatalf("sign-in answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	doc := c.GetDoc("/p/", http.StatusOK)
	if got := doc.Find("[data-testid=study-link]").Length(); got != 2 {
		t.Fatalf("%d studies listed, want 2", got)
	}
	if !strings.Contains(doc.Find("h1").Text(), "Łukasik") {
		t.Fatalf("heading %q lacks the patient's name", doc.Find("h1").Text())
	}
	res, _ = c.Get("/p/")
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("patient page Cache-Control %q", cc)
	}
	var failures int
	if err := f.srv.DB.NewSelect().Table("buckets").Column("failures").Where("id = ?", b.ID).Scan(t.Context(), &failures); err != nil || failures != 0 {
		t.Fatalf("failures %d (%v)", failures, err)
	}
}

// Unknown number, wrong birth date and a blocked bucket: the same status
// and the same body (security requirement 6).
func TestSameAnswerForEveryRefusal(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	blockedB, blocked := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	if _, err := f.srv.DB.ExecContext(t.Context(), `UPDATE buckets SET state = 'blocked', failures = 5 WHERE id = ?`, blockedB.ID); err != nil {
		t.Fatal(err)
	}
	unknown, _ := refnum.New()
	wrong := birth.AddDate(0, 0, 1)
	token := regexp.MustCompile(`[A-Za-z0-9_\-]{16,}\.[a-z0-9]+\.[A-Za-z0-9_\-]{16,}`) // CSRF tokens
	answer := func(ref refnum.Number) (int, string) {
		c := f.srv.Client(t)
		c.Get("/")
		form := signInForm(ref.Canonical(), wrong)
		res, body := c.PostForm("/p/signin", form)
		body = strings.ReplaceAll(body, ref.Canonical(), "REF")
		return res.StatusCode, token.ReplaceAllString(body, "TOKEN")
	}
	s1, b1 := answer(unknown)
	s2, b2 := answer(n)
	s3, b3 := answer(blocked)
	if s1 != http.StatusUnprocessableEntity || s1 != s2 || s2 != s3 {
		t.Fatalf("statuses %d %d %d", s1, s2, s3)
	}
	if b1 != b2 || b2 != b3 {
		t.Fatalf("bodies differ:\n%s\n---\n%s\n---\n%s", b1, b2, b3)
	}
	if !strings.Contains(b1, "not correct") {
		t.Fatal("the refusal does not say what to check")
	}
}

// A typo the check character catches is answered at once and counts nothing.
func TestCheckCharacterCountsNoAttempt(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	s := []byte(n.Canonical())
	if s[3] == 'A' {
		s[3] = 'B'
	} else {
		s[3] = 'A'
	}
	c := f.srv.Client(t)
	c.Get("/")
	res, body := c.PostForm("/p/signin", signInForm(string(s), birth))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "typing error") {
		t.Fatalf("typo answered %d", res.StatusCode)
	}
	res, body = c.PostForm("/p/signin", url.Values{"ref": {n.Canonical()}, "dob_day": {"31"}, "dob_month": {"2"}, "dob_year": {"1961"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "valid date of birth") {
		t.Fatalf("31 February answered %d", res.StatusCode)
	}
	var failures int
	if err := f.srv.DB.NewSelect().Table("buckets").Column("failures").Where("id = ?", b.ID).Scan(t.Context(), &failures); err != nil || failures != 0 {
		t.Fatalf("failures %d after a typo (%v)", failures, err)
	}
	if n := patientEvents(t, f.srv); n != 0 {
		t.Fatalf("%d patient audit events for typos", n)
	}
}

// Expiry and blocking are explained only after number and birth date match.
func TestClosedBucketsExplainedAfterMatch(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	if _, err := f.srv.DB.ExecContext(t.Context(), `UPDATE buckets SET valid_until = current_date - 1 WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	c := f.srv.Client(t)
	c.Get("/")
	res, body := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	doc := testserver.Doc(t, body)
	if res.StatusCode != http.StatusForbidden || doc.Find("[data-testid=closed]").Length() != 1 || !strings.Contains(doc.Find("[data-testid=closed-reason]").Text(), "expired") {
		t.Fatalf("expired bucket with the right birth date answered %d: %s", res.StatusCode, doc.Find("main").Text())
	}
	if !strings.Contains(doc.Find("[data-testid=contact]").Text(), f.dept.Name) {
		t.Fatal("no department contact on the expiry page")
	}
	res, body = c.PostForm("/p/signin", signInForm(n.Canonical(), birth.AddDate(1, 0, 0)))
	if res.StatusCode != http.StatusUnprocessableEntity || strings.Contains(body, "expired") {
		t.Fatalf("expired bucket with a wrong birth date answered %d and explained it", res.StatusCode)
	}
}

func patientEvents(t *testing.T, srv *testserver.Server) int {
	t.Helper()
	var n int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action LIKE 'patient.%'`).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Oversized and malformed fields get the usual 422 with the form, but are
// not sent back whole (a 60 MB day would make a 60 MB page) nor as invalid
// UTF-8 (security requirement 15).
func TestSignInEchoesNoHugeOrInvalidInput(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	huge := strings.Repeat("1", 6<<10) // under the sign-in body limit (8 KiB; larger bodies get 413)
	tests := []struct {
		name string
		form url.Values
	}{
		{"huge day", url.Values{"ref": {n.Canonical()}, "dob_day": {huge}, "dob_month": {"3"}, "dob_year": {"1961"}}},
		{"huge year", url.Values{"ref": {n.Canonical()}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {huge}}},
		{"huge month", url.Values{"ref": {""}, "dob_day": {"9"}, "dob_month": {huge}, "dob_year": {"1961"}}},
		{"huge number", url.Values{"ref": {huge}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}}},
		{"invalid UTF-8 and NUL", url.Values{"ref": {"ABC\xff\xfe\x00D"}, "dob_day": {"9\xff"}, "dob_month": {"3"}, "dob_year": {"19\x0061"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := f.srv.Client(t)
			c.Get("/")
			res, body := c.PostForm("/p/signin", tt.form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("answered %d", res.StatusCode)
			}
			if len(body) > 32<<10 || strings.Contains(body, huge[:256]) {
				t.Fatalf("a %d-byte answer: the field was sent back whole", len(body))
			}
			if !utf8.ValidString(body) {
				t.Fatal("the answer is not valid UTF-8")
			}
			// Invalid UTF-8 and NUL are refused before the handler (a 422
			// naming the field, web.RefuseBadFormText); the rest get the form.
			if tt.name != "invalid UTF-8 and NUL" && testserver.Doc(t, body).Find("#ref").Length() != 1 {
				t.Fatal("no sign-in form in the answer")
			}
		})
	}
	// The start page prefills the number from the QR code's link.
	res, body := f.srv.Client(t).Get("/?ref=AB%FF%FE%00CD")
	if res.StatusCode != http.StatusOK || !utf8.ValidString(body) {
		t.Fatalf("start page with a broken ?ref= answered %d, valid UTF-8: %v", res.StatusCode, utf8.ValidString(body))
	}
}
