package buckets_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// start is the fixed "now" of these tests: dates never race midnight.
var start = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

// birth is the birth date of the fixture's patients; wrongBirth never matches.
var (
	birth      = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	wrongBirth = time.Date(1961, 3, 10, 0, 0, 0, 0, time.UTC)
)

// clock is a Service.Now the test moves instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a fresh database with two departments (north, south), a user of
// every role, and in each department one patient with studies.
type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *bun.DB
	s   *buckets.Service
	clk *clock

	north, south           *database.Department
	staff, admin, desk     *database.User
	southAdmin, southStaff *database.User
	// two studies of one north patient; one study of a south patient
	studies      []*database.Study
	southStudies []*database.Study
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testdb.New(t)
	clk := &clock{t: start}
	f := &fixture{t: t, ctx: context.Background(), db: db, clk: clk,
		s: &buckets.Service{DB: db, Key: []byte("buckets-test-secret-0123456789abcdef"), Now: clk.Now}}
	f.north = f.department("NORTH")
	f.south = f.department("SOUTH")
	f.staff = f.user("ann", database.RoleStaff, f.north)
	f.admin = f.user("bob", database.RoleAdmin, f.north)
	f.desk = f.user("dee", database.RoleServiceDesk, nil)
	f.southAdmin = f.user("sam", database.RoleAdmin, f.south)
	f.southStaff = f.user("sue", database.RoleStaff, f.south)
	p := f.patient(f.north, "P001")
	f.studies = []*database.Study{f.study(p), f.study(p)}
	q := f.patient(f.south, "Q001")
	f.southStudies = []*database.Study{f.study(q)}
	return f
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.ExecContext(f.ctx, q, args...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) insert(m any) {
	f.t.Helper()
	if _, err := f.db.NewInsert().Model(m).Exec(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) department(code string) *database.Department {
	d := &database.Department{Code: code, Name: "Radiology " + code, Phone: "+32 2 000 00 00", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	f.insert(d)
	return d
}

func (f *fixture) user(name, role string, d *database.Department) *database.User {
	u := &database.User{Username: name, Role: role, PasswordHash: "not-a-hash"}
	if d != nil {
		u.DepartmentID = &d.ID
	}
	f.insert(u)
	return u
}

func (f *fixture) patient(d *database.Department, pid string) *database.Patient {
	bd := birth
	p := &database.Patient{DepartmentID: d.ID, PatientID: pid, FamilyName: "Łukasik", GivenName: "Zoë", BirthDate: &bd}
	f.insert(p)
	return p
}

var uidSeq atomic.Int64

func (f *fixture) study(p *database.Patient) *database.Study {
	day := start.Truncate(24 * time.Hour)
	n := uidSeq.Add(1)
	s := &database.Study{DepartmentID: p.DepartmentID, PatientID: p.ID, StudyUID: fmt.Sprintf("2.25.%d.%d", time.Now().UnixNano(), n),
		StudyDate: &day, Description: "CT thorax", Modalities: []string{"CT"}, ReportStatus: "none"}
	f.insert(s)
	s.Patient = p
	return s
}

// instance adds a series with one instance to study s and returns the instance id.
func (f *fixture) instance(s *database.Study) int64 {
	f.t.Helper()
	n := uidSeq.Add(1)
	var series, id int64
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO series (study_id, series_uid) VALUES (?, ?) RETURNING id`,
		s.ID, fmt.Sprintf("%s.s%d", s.StudyUID, n)).Scan(&series); err != nil {
		f.t.Fatal(err)
	}
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO instances (series_id, sop_uid, storage_key) VALUES (?, ?, ?) RETURNING id`,
		series, fmt.Sprintf("%s.i%d", s.StudyUID, n), "k/"+strconv.FormatInt(n, 10)).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// request is a valid print of the given verification type.
func (f *fixture) request(verification string) *buckets.PrintRequest {
	r := &buckets.PrintRequest{Verification: verification, Scope: database.ScopeImagesReport, Reason: "Patient asked for the images",
		Language: "en", ValidUntil: f.s.Today().AddDate(0, 1, 0)}
	switch verification {
	case database.VerifySMS:
		r.Destination, r.SMSRegion = "+32470123489", "BE"
	case database.VerifyEmail:
		r.Destination = "zoe@example.org"
	}
	return r
}

// printed is a stored print and its plaintext number.
type printed struct {
	b    *database.Bucket
	n    refnum.Number
	code string // the last one-time password issued, where a test keeps it
}

// print stores a print of studies by u (the north staff user by default).
func (f *fixture) print(verification string, studies []*database.Study, u *database.User) printed {
	f.t.Helper()
	return f.printReq(f.request(verification), studies, u)
}

func (f *fixture) printReq(r *buckets.PrintRequest, studies []*database.Study, u *database.User) printed {
	f.t.Helper()
	if u == nil {
		u = f.staff
	}
	if studies == nil {
		studies = f.studies
	}
	sel, err := f.s.Select(f.ctx, u, buckets.StudyIDs(studies))
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := f.s.Create(f.ctx, u, "192.0.2.1", sel, r, buckets.Hooks{})
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Duplicate || res.Number.IsZero() {
		f.t.Fatalf("fresh print came back as %+v", res)
	}
	return printed{b: res.Bucket, n: res.Number}
}

// bucket reloads bucket id.
func (f *fixture) bucket(id int64) *database.Bucket {
	f.t.Helper()
	b := new(database.Bucket)
	if err := f.db.NewSelect().Model(b).Where("id = ?", id).Scan(f.ctx); err != nil {
		f.t.Fatal(err)
	}
	return b
}

// events counts the audit rows of bucket id with action (and outcome unless "").
func (f *fixture) events(id int64, action, outcome string) int {
	f.t.Helper()
	if outcome == "" {
		return f.count(`SELECT count(*) FROM audit_events WHERE bucket_id = ? AND action = ?`, id, action)
	}
	return f.count(`SELECT count(*) FROM audit_events WHERE bucket_id = ? AND action = ? AND outcome = ?`, id, action, outcome)
}

// block makes p's bucket blocked through MaxFailures wrong birth dates.
func (f *fixture) block(p printed) {
	f.t.Helper()
	for i := 0; i < buckets.MaxFailures; i++ {
		a, err := f.s.SignIn(f.ctx, p.n, wrongBirth, "198.51.100.7")
		if err != nil {
			f.t.Fatal(err)
		}
		if a.Outcome != buckets.Refused {
			f.t.Fatalf("wrong birth date %d: %v", i+1, a.Outcome)
		}
	}
	if b := f.bucket(p.b.ID); b.State != database.BucketBlocked {
		f.t.Fatalf("after %d wrong birth dates the bucket is %s", buckets.MaxFailures, b.State)
	}
}

// issue makes a new code for bucket id (from ip) and reports it sent.
func (f *fixture) issue(id int64, ip string) *buckets.Code {
	f.t.Helper()
	c, err := f.s.IssueOTP(f.ctx, id, ip)
	if err != nil {
		f.t.Fatalf("issue a code: %v", err)
	}
	if err := f.s.SendDone(f.ctx, c, id, ip, nil); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// otherCode is a well-formed code that is not c.
func otherCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func (f *fixture) checkOTP(id int64, code string) buckets.Outcome {
	f.t.Helper()
	a, err := f.s.CheckOTP(f.ctx, id, code, "198.51.100.7")
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Outcome
}

func (f *fixture) signIn(n refnum.Number, bd time.Time) *buckets.Attempt {
	f.t.Helper()
	a, err := f.s.SignIn(f.ctx, n, bd, "198.51.100.7")
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}
