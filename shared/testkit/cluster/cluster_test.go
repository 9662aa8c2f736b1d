package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/cluster"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

var birth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

// fixture is one database with a department, a staff user and a patient
// whose study has stored images, served by a cluster behind nginx.
type fixture struct {
	srv     *testserver.Server // the in-process app: fixtures and the database
	front   *testserver.Server // nginx, for testserver clients
	cl      *cluster.Cluster
	dept    *database.Department
	staff   *database.User
	studies []*database.Study
	inst    []int64 // stored instances of studies[0]
}

func image(t testing.TB, uid string) []byte {
	t.Helper()
	b, err := dicom.Synth{StudyUID: "2.25.7", SeriesUID: "2.25.7.1", SOPUID: uid, PatientID: "P001", Modality: "CR",
		Rows: 256, Cols: 256, BitsAllocated: 16, BitsStored: 12,
		Pixel: func(_, i, _ int) int { return (i%256)*7 + (i/256)%300 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newFixture(t testing.TB, instances int) *fixture {
	t.Helper()
	srv := testserver.New(t)
	f := &fixture{srv: srv}
	f.dept = testserver.MustDepartment(t, srv.DB, "NORTH")
	f.staff = testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, f.dept)
	bd := birth
	s := testserver.MustPatientStudy(t, srv.DB, f.dept, "P001", "Łukasik", "Zoë", &bd)
	f.studies = []*database.Study{s}
	for i := 0; i < 2; i++ {
		id, _ := srv.MustStoredInstance(t, s, image(t, "2.25.7.1."+strconv.Itoa(i+1)), 1)
		f.inst = append(f.inst, id)
	}
	f.cl = cluster.Start(t, cluster.Options{Instances: instances, DatabaseURL: srv.DSN,
		StoreDir: filepath.Join(srv.Config.DataDir, "dicom"), SecretKey: srv.Config.SecretKey})
	f.front = &testserver.Server{URL: f.cl.URL, DB: srv.DB, DSN: srv.DSN, Config: srv.Config}
	return f
}

func (f *fixture) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.srv.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	if _, err := f.srv.DB.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
}

// served says how many requests of method and path each instance logged.
func (f *fixture) served(method, path string) []int {
	n := make([]int, len(f.cl.Insts))
	for i := range n {
		n[i] = f.cl.Requests(i, method, path)
	}
	return n
}

func allServed(n []int) bool {
	for _, v := range n {
		if v == 0 {
			return false
		}
	}
	return true
}

func signInForm(ref string, d time.Time) url.Values {
	return url.Values{"ref": {ref}, "dob_day": {d.Format("2")}, "dob_month": {d.Format("1")}, "dob_year": {d.Format("2006")}}
}

func (f *fixture) printForm(token, csrf string) url.Values {
	v := url.Values{
		"verification": {"sms"}, "sms_region": {"BE"}, "phone": {"0470 12 34 89"},
		"scope": {"images_report"}, "reason": {"Patient asked for the images"}, "language": {"en"},
		"valid_until": {time.Now().AddDate(0, 1, 0).Format("2006-01-02")}, "agreed": {"1"},
		"form_token": {token}, "_csrf": {csrf},
	}
	for _, s := range f.studies {
		v.Add("study", strconv.FormatInt(s.ID, 10))
	}
	return v
}

func (f *fixture) studyQuery() string {
	q := url.Values{}
	for _, s := range f.studies {
		q.Add("study", strconv.FormatInt(s.ID, 10))
	}
	return q.Encode()
}

// Two instances behind nginx on one database and one store: what one
// instance knows (sessions, failure counts, a print's form token, the
// sign-in limits) every instance knows.
func TestSeveralInstancesSystem(t *testing.T) {
	f := newFixture(t, 2)

	t.Run("staff session moves between instances", func(t *testing.T) {
		c := f.front.Client(t)
		c.SignIn("ann", testserver.Password)
		for i := 0; i < 4; i++ {
			c.GetDoc("/staff/print?"+f.studyQuery(), http.StatusOK)
		}
		if n := f.served("GET", "/staff/print"); !allServed(n) {
			t.Fatalf("the signed-in pages were served by %v (requests per instance), want every instance", n)
		}
	})

	t.Run("five wrong answers over instances block at five", func(t *testing.T) {
		f.exec(t, `DELETE FROM throttle`)
		b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
		before := f.served("POST", "/p/signin")
		c := f.front.Client(t)
		c.Get("/")
		for i := 0; i < 5; i++ {
			if res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth.AddDate(0, 0, i+1))); res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("wrong answer %d: status %d", i+1, res.StatusCode)
			}
		}
		after := f.served("POST", "/p/signin")
		for i := range after {
			if after[i] == before[i] {
				t.Fatalf("instance %d got none of the five answers (%v -> %v)", i, before, after)
			}
		}
		var state string
		var failures int
		if err := f.srv.DB.QueryRowContext(t.Context(), `SELECT state, failures FROM buckets WHERE id = ?`, b.ID).Scan(&state, &failures); err != nil {
			t.Fatal(err)
		}
		if state != database.BucketBlocked || failures != 5 {
			t.Fatalf("after five wrong answers on two instances: state %q, failures %d; want blocked at 5", state, failures)
		}
		// The right answer, now, on either instance: refused, nothing counted.
		for i := 0; i < 2; i++ {
			c := f.front.Client(t)
			c.Get("/")
			if res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode == http.StatusSeeOther {
				t.Fatal("a blocked bucket opened with the right answer")
			}
		}
		if got := f.count(t, `SELECT failures FROM buckets WHERE id = ?`, b.ID); got != 5 {
			t.Fatalf("failures %d after the block, want 5", got)
		}
	})

	t.Run("one form token on two instances at once prints once", func(t *testing.T) {
		c := f.front.Client(t)
		c.SignIn("ann", testserver.Password)
		doc := c.GetDoc("/staff/print?"+f.studyQuery(), http.StatusOK)
		token, _ := doc.Find(`form#print-form input[name=form_token]`).Attr("value")
		if len(token) < 16 {
			t.Fatalf("no form token (%q)", token)
		}
		buckets := f.count(t, `SELECT count(*) FROM buckets`)
		prints := f.count(t, `SELECT count(*) FROM audit_events WHERE action = 'bucket.print'`)
		before := f.served("POST", "/staff/print")
		form := f.printForm(token, c.CSRF)
		hc := &http.Client{Jar: c.Jar, Timeout: time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		locs := make([]string, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := range locs {
			wg.Go(func() {
				<-gate
				st, loc, err := post(hc, f.cl.URL, "/staff/print", form)
				if err == nil && st != http.StatusSeeOther {
					err = fmt.Errorf("status %d", st)
				}
				locs[i], errs[i] = loc, err
			})
		}
		close(gate)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("submit %d: %v", i, err)
			}
		}
		if locs[0] != locs[1] || !regexp.MustCompile(`^/staff/print/\d+$`).MatchString(locs[0]) {
			t.Fatalf("the two submits went to %q and %q", locs[0], locs[1])
		}
		after := f.served("POST", "/staff/print")
		for i := range after {
			if after[i] != before[i]+1 {
				t.Fatalf("submits per instance %v -> %v, want one each", before, after)
			}
		}
		if got := f.count(t, `SELECT count(*) FROM buckets`) - buckets; got != 1 {
			t.Fatalf("%d buckets from one form on two instances, want 1", got)
		}
		if got := f.count(t, `SELECT count(*) FROM audit_events WHERE action = 'bucket.print'`) - prints; got != 1 {
			t.Fatalf("%d print audit rows, want 1", got)
		}
	})

	t.Run("sign-in limits hold across instances", func(t *testing.T) {
		f.exec(t, `DELETE FROM throttle`)
		// Patients: 30 tries of one address at once, the 31st waits,
		// wherever the tries landed.
		c := f.front.Client(t)
		c.Get("/")
		before := f.served("POST", "/p/signin")
		var last *http.Response
		for i := 0; i < 31; i++ {
			n, _ := refnum.New()
			last, _ = c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
			if i < 30 && last.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("try %d: status %d", i+1, last.StatusCode)
			}
		}
		if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
			t.Fatalf("31st try over two instances: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
		}
		after := f.served("POST", "/p/signin")
		for i := range after {
			if after[i]-before[i] < 15 {
				t.Fatalf("tries per instance %v -> %v: not spread", before, after)
			}
		}
		// Staff: five wrong passwords for one account from one address
		// lock the pair; the right password then fails on every instance.
		s := f.front.Client(t)
		s.Get("/staff/signin")
		for i := 0; i < 5; i++ {
			if res, _ := s.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {"wrong-" + strconv.Itoa(i)}}); res.StatusCode == http.StatusSeeOther {
				t.Fatalf("wrong password %d signed in", i+1)
			}
		}
		for i := 0; i < 2; i++ {
			if res, _ := s.PostForm("/staff/signin", url.Values{"username": {"ann"}, "password": {testserver.Password}}); res.StatusCode == http.StatusSeeOther {
				t.Fatalf("the locked account signed in on its try %d after the lock", i+1)
			}
		}
		f.exec(t, `DELETE FROM throttle`)
	})

	t.Run("the render cache is per instance", func(t *testing.T) {
		_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
		p := f.front.Client(t)
		p.Get("/")
		if res, body := p.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("patient sign-in: %d\n%s", res.StatusCode, body)
		}
		for i := 0; i < 4; i++ {
			if res, _ := p.Get("/p/images/" + strconv.FormatInt(f.inst[0], 10)); res.StatusCode != http.StatusOK {
				t.Fatalf("image view %d: %d", i, res.StatusCode)
			}
		}
		for _, in := range f.cl.Insts {
			if files := countFiles(filepath.Join(in.DataDir, "cache")); files == 0 {
				t.Fatalf("instance %d rendered nothing into its own cache", in.Index)
			}
		}
	})
}

func countFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// Store says which keys the shared store holds.
func storeKeys(t *testing.T, dir string) []string {
	t.Helper()
	st, err := storage.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := st.Walk(t.Context(), func(k string, _ time.Time) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}
