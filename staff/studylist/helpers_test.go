package studylist_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func printCount(t *testing.T, srv *testserver.Server, q string, args ...any) int {
	t.Helper()
	var n int
	if err := srv.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// send is safe for concurrent use (unlike testserver.Client.Do): it reports
// instead of failing the test, and does not parse the body.
func send(hc *http.Client, srv *testserver.Server, method, path string, form url.Values, header ...string) shot {
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		return shot{err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	began := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return shot{err: err, took: time.Since(began)}
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return shot{status: res.StatusCode, loc: res.Header.Get("Location"), took: time.Since(began), err: err}
}

// shot is one request sent from a goroutine.
type shot struct {
	status int
	loc    string
	took   time.Duration
	err    error
}

func newPrintFixture(t testing.TB, lang string) *printFixture {
	t.Helper()
	srv := testserver.New(t)
	srv.App.Staff.Print.Now = func() time.Time { return printToday }
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	if lang != "" {
		printExec(t, srv, `UPDATE users SET language = ? WHERE id = ?`, lang, u.ID)
	}
	bd := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	s1 := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	s2 := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	return &printFixture{srv: srv, dept: d, user: u, c: c, studies: []*database.Study{s1, s2}}
}

type printFixture struct {
	srv     *testserver.Server
	dept    *database.Department
	user    *database.User
	c       *testserver.Client
	studies []*database.Study // two studies of one patient
}

// printToday is the fixed "today" of these tests, so dates never race midnight.
var printToday = time.Date(2026, 6, 15, 10, 0, 0, 0, time.Local)

func printExec(t testing.TB, srv *testserver.Server, q string, args ...any) {
	t.Helper()
	if _, err := srv.DB.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// validForm is a complete, correct STEP 2.
func (f *printFixture) validForm() url.Values {
	v := url.Values{
		"verification": {"sms"}, "sms_region": {"BE"}, "phone": {"0470 12 34 89"},
		"scope": {"images_report"}, "reason": {"Patient asked for the images"}, "language": {"en"},
		"valid_until": {"2026-07-15"}, "agreed": {"1"},
	}
	for _, s := range f.studies {
		v.Add("study", strconv.FormatInt(s.ID, 10))
	}
	return v
}

func (f *printFixture) openForm(t *testing.T) *goquery.Document {
	t.Helper()
	return f.c.GetDoc("/staff/print?"+printStudyQuery(f.studies...), http.StatusOK)
}

// print posts form and returns the bucket id from the redirect (fails unless 303).
func (f *printFixture) print(t *testing.T, form url.Values) int64 {
	t.Helper()
	f.openForm(t)
	res, body := f.c.PostForm("/staff/print", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("print: status %d\n%s", res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	m := regexp.MustCompile(`^/staff/print/(\d+)`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("redirect to %q", loc)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

func printStudyQuery(ss ...*database.Study) string {
	q := url.Values{}
	for _, s := range ss {
		q.Add("study", strconv.FormatInt(s.ID, 10))
	}
	return q.Encode()
}
