package testserver

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
)

// PrintToday is the fixed "today" of the print tests, so dates never race midnight.
var PrintToday = time.Date(2026, 6, 15, 10, 0, 0, 0, time.Local)

// PrintFixture is a server whose print clock is PrintToday, with staff user
// ann of department NORTH signed in, and two studies of one patient.
type PrintFixture struct {
	Srv     *Server
	Dept    *database.Department
	User    *database.User
	C       *Client
	Studies []*database.Study // two studies of one patient
}

// NewPrintFixture starts it; lang ("" keeps the default) is ann's language.
func NewPrintFixture(tb testing.TB, lang string) *PrintFixture {
	tb.Helper()
	srv := New(tb)
	srv.App.Staff.Print.Now = func() time.Time { return PrintToday }
	d := MustDepartment(tb, srv.DB, "NORTH")
	u := MustUser(tb, srv.DB, "ann", database.RoleStaff, d)
	if lang != "" {
		srv.Exec(tb, `UPDATE users SET language = ? WHERE id = ?`, lang, u.ID)
	}
	bd := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	s1 := MustPatientStudy(tb, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	s2 := MustPatientStudy(tb, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	c := srv.Client(tb)
	c.SignIn("ann", Password)
	return &PrintFixture{Srv: srv, Dept: d, User: u, C: c, Studies: []*database.Study{s1, s2}}
}

// ValidForm is a complete, correct STEP 2 for the fixture's studies.
func (f *PrintFixture) ValidForm() url.Values {
	v := url.Values{
		"verification": {"sms"}, "sms_region": {"BE"}, "phone": {"0470 12 34 89"},
		"scope": {"images_report"}, "reason": {"Patient asked for the images"}, "language": {"en"},
		"valid_until": {"2026-07-15"}, "agreed": {"1"},
	}
	for _, s := range f.Studies {
		v.Add("study", strconv.FormatInt(s.ID, 10))
	}
	return v
}

// OpenForm opens the print form of the fixture's studies (its CSRF and form token).
func (f *PrintFixture) OpenForm(tb testing.TB) *goquery.Document {
	tb.Helper()
	return f.C.GetDoc("/staff/print?"+StudyQuery(f.Studies...), http.StatusOK)
}

// Print posts form and returns the bucket id from the redirect (fails unless 303).
func (f *PrintFixture) Print(tb testing.TB, form url.Values) int64 {
	tb.Helper()
	f.OpenForm(tb)
	res, body := f.C.PostForm("/staff/print", form)
	if res.StatusCode != http.StatusSeeOther {
		tb.Fatalf("print: status %d\n%s", res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	m := regexp.MustCompile(`^/staff/print/(\d+)`).FindStringSubmatch(loc)
	if m == nil {
		tb.Fatalf("redirect to %q", loc)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// StudyQuery is the study=… query of the print form for ss.
func StudyQuery(ss ...*database.Study) string {
	q := url.Values{}
	for _, s := range ss {
		q.Add("study", strconv.FormatInt(s.ID, 10))
	}
	return q.Encode()
}

// Exec runs one SQL statement on the server's database.
func (s *Server) Exec(tb testing.TB, q string, args ...any) {
	tb.Helper()
	if _, err := s.DB.ExecContext(context.Background(), q, args...); err != nil {
		tb.Fatal(err)
	}
}

// Count scans one integer query on the server's database.
func (s *Server) Count(tb testing.TB, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := s.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// Shot is one request sent from a goroutine (Send).
type Shot struct {
	Status int
	Loc    string
	Took   time.Duration
	Err    error
}

// Send is safe for concurrent use (unlike Client.Do): it reports instead of
// failing the test, and does not parse the body.
func (s *Server) Send(hc *http.Client, method, path string, form url.Values, header ...string) Shot {
	var body io.Reader = http.NoBody
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		return Shot{Err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.URL)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	began := time.Now()
	res, err := hc.Do(req)
	if err != nil {
		return Shot{Err: err, Took: time.Since(began)}
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return Shot{Status: res.StatusCode, Loc: res.Header.Get("Location"), Took: time.Since(began), Err: err}
}
