package cluster_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/cluster"
	"github.com/radpass/radpass/shared/testkit/tests3"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

var birth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) { tests3.Main(m) }

// fixture is one database with a department, a staff user and a patient
// whose study was imported over STOW-RS through the first instance, served
// by a cluster behind nginx whose instances all store on one S3 bucket.
type fixture struct {
	srv     *testserver.Server // the in-process app: fixtures and the database
	front   *testserver.Server // nginx, for testserver clients
	cl      *cluster.Cluster
	dept    *database.Department
	staff   *database.User
	token   string // the department's machine API token (STOW-RS)
	studies []*database.Study
	inst    []int64  // stored instances of studies[0]
	files   [][]byte // their DICOM files, as imported
}

// synth is a small image of a study; seed makes its pixels (and so its
// stored object) its own.
func synth(t testing.TB, patientID, study, sop string, seed int) []byte {
	t.Helper()
	b, err := synthBytes(patientID, study, sop, seed)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func synthBytes(patientID, study, sop string, seed int) ([]byte, error) {
	return dicom.Synth{StudyUID: study, SeriesUID: study + ".1", SOPUID: sop, PatientID: patientID,
		PatientName: "Lukasik^Zoe", BirthDate: birth.Format("20060102"), Modality: "CR",
		Rows: 256, Cols: 256, BitsAllocated: 16, BitsStored: 12,
		Pixel: func(_, i, _ int) int { return (i%256)*7 + (i/256)%300 + seed }}.Bytes()
}

// stow sends DICOM files to base's STOW-RS endpoint with the machine token.
func stow(hc *http.Client, base, token string, files ...[]byte) (int, error) {
	const boundary = "cluster-stow-boundary"
	var body bytes.Buffer
	for _, p := range files {
		fmt.Fprintf(&body, "--%s\r\nContent-Type: application/dicom\r\n\r\n", boundary)
		body.Write(p)
		body.WriteString("\r\n")
	}
	fmt.Fprintf(&body, "--%s--\r\n", boundary)
	req, err := http.NewRequest(http.MethodPost, base+"/dicomweb/studies", &body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+boundary)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

func newFixture(t testing.TB, instances int) *fixture {
	t.Helper()
	srv := testserver.New(t)
	f := &fixture{srv: srv}
	f.dept = testserver.MustDepartment(t, srv.DB, "NORTH")
	f.staff = testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, f.dept)
	f.cl = cluster.Start(t, cluster.Options{Instances: instances, DatabaseURL: srv.DSN, S3: true, SecretKey: srv.Config.SecretKey})
	f.front = &testserver.Server{URL: f.cl.URL, DB: srv.DB, DSN: srv.DSN, Config: srv.Config}
	var err error
	if f.token, _, err = dicomweb.CreateToken(t.Context(), srv.DB, f.dept.ID, "pacs"); err != nil {
		t.Fatal(err)
	}
	// The patient's study is imported through the first instance only.
	for i := 0; i < 2; i++ {
		f.files = append(f.files, synth(t, "P001", "2.25.7", "2.25.7.1."+strconv.Itoa(i+1), i))
	}
	if st, err := stow(http.DefaultClient, "http://"+f.cl.Insts[0].Addr, f.token, f.files...); err != nil || st != http.StatusOK {
		t.Fatalf("STOW-RS to instance 0: %d %v\n%s", st, err, f.cl.LogTail(0, 10))
	}
	s := new(database.Study)
	if err := srv.DB.NewSelect().Model(s).Where("study_uid = '2.25.7'").Scan(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.studies = []*database.Study{s}
	if err := srv.DB.NewSelect().Table("instances").Column("id").Where("sop_uid LIKE '2.25.7.1.%'").Order("sop_uid").Scan(t.Context(), &f.inst); err != nil || len(f.inst) != 2 {
		t.Fatalf("imported instances %v: %v", f.inst, err)
	}
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

// Two instances behind nginx on one database and one S3 bucket: what one
// instance stored (files) or knows (sessions, failure counts, a print's form
// token, the sign-in limits) every instance has.
func TestSeveralInstancesSystem(t *testing.T) {
	f := newFixture(t, 2)

	t.Run("imported through one instance, viewed and downloaded through the other", func(t *testing.T) {
		keys := storeKeys(t, f)
		for _, id := range f.inst {
			var key string
			if err := f.srv.DB.QueryRowContext(t.Context(), `SELECT storage_key FROM instances WHERE id = ?`, id).Scan(&key); err != nil {
				t.Fatal(err)
			}
			if _, ok := keys[key]; !ok {
				t.Fatalf("instance %d's file %s is not in the S3 bucket", id, key)
			}
		}
		for _, in := range f.cl.Insts {
			if n := countFiles(filepath.Join(in.DataDir, "dicom")); n != 0 {
				t.Fatalf("instance %d keeps %d DICOM files in its own folder", in.Index, n)
			}
		}
		_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
		p := f.front.Client(t)
		p.Get("/")
		if res, body := p.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("patient sign-in: %d\n%s", res.StatusCode, body)
		}
		// Straight to the second instance, which never saw the import.
		other := "http://" + f.cl.Insts[1].Addr
		for _, id := range f.inst {
			st, body, err := get(p.HTTP, other, "/p/images/"+strconv.FormatInt(id, 10))
			if err != nil || st != http.StatusOK || len(body) < 100 {
				t.Fatalf("image %d on instance 1: %d (%d bytes) %v", id, st, len(body), err)
			}
		}
		st, body, err := get(p.HTTP, other, "/p/download")
		if err != nil || st != http.StatusOK {
			t.Fatalf("download on instance 1: %d %v", st, err)
		}
		zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, zf := range zr.File {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			for _, want := range f.files {
				if bytes.Equal(b, want) {
					found++
				}
			}
		}
		if found != len(f.files) {
			t.Fatalf("the download from instance 1 holds %d of the %d imported files byte for byte", found, len(f.files))
		}
	})

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

// storeKeys are the keys of the objects in the instances' bucket.
func storeKeys(t *testing.T, f *fixture) map[string]time.Time {
	t.Helper()
	keys := map[string]time.Time{}
	if err := f.cl.Store(t).Walk(t.Context(), func(k string, mod time.Time) error { keys[k] = mod; return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}
