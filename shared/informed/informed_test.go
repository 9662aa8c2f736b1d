package informed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/jobs"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testsmtp"
)

// fakeVonage answers like Vonage's SMS API and keeps what it was sent.
type fakeVonage struct {
	mu    sync.Mutex
	forms []url.Values
}

func (v *fakeVonage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/sms/json" {
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	v.mu.Lock()
	v.forms = append(v.forms, r.PostForm)
	v.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"message-count": "1", "messages": []map[string]string{{"to": r.PostForm.Get("to"), "status": "0"}}})
}

func (v *fakeVonage) texts(to string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, f := range v.forms {
		if f.Get("to") == strings.TrimPrefix(to, "+") {
			out = append(out, f.Get("text"))
		}
	}
	return out
}

type fixture struct {
	srv    *testserver.Server
	mail   *testsmtp.Server
	vonage *fakeVonage
	dept   *database.Department
	user   *database.User
	store  storage.Store
}

// newFixture runs the app with Mailpit and the fake Vonage as its senders.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	mail := testsmtp.Start(t)
	fake := &fakeVonage{}
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	srv := testserver.New(t, func(c *config.Config) {
		c.Notify.SMTPHost, c.Notify.SMTPPort, c.Notify.SMTPTLS, c.Notify.SMTPFrom = mail.Host, mail.Port, "none", "RadPass <noreply@radpass.test>"
		c.Notify.VonageAPIKey, c.Notify.VonageAPISecret, c.Notify.VonageBaseURL, c.Notify.SMSFrom = "key", "secret", api.URL, "RadPass"
	})
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	st, err := storage.NewFS(filepath.Join(srv.Config.DataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, mail: mail, vonage: fake, dept: d, user: u, store: st}
}

var birth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

// study makes a study of patient pid (instances: how many it claims to have).
func (f *fixture) study(t *testing.T, pid string, instances int) *database.Study {
	t.Helper()
	bd := birth
	st := testserver.MustPatientStudy(t, f.srv.DB, f.dept, pid, "Peeters", "Zoë", &bd)
	if instances != st.NumInstances {
		if _, err := f.srv.DB.NewRaw(`UPDATE studies SET num_instances = ? WHERE id = ?`, instances, st.ID).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		st.NumInstances = instances
	}
	return st
}

// bucket prints an access to studies and stores its notice settings.
func (f *fixture) bucket(t *testing.T, spec testserver.BucketSpec, set informed.Settings, studies ...*database.Study) *database.Bucket {
	t.Helper()
	b, _ := f.srv.MustBucket(t, f.user, studies, spec)
	set.BucketID = b.ID
	if err := informed.SaveSettings(context.Background(), f.srv.DB, &set); err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) report(t *testing.T, st *database.Study, status, text string, at *time.Time) {
	t.Helper()
	if _, err := ingest.AttachReport(context.Background(), f.srv.DB, f.store, f.dept.ID, st.StudyUID,
		ingest.Report{Text: text, Status: status, AvailableAt: at}); err != nil {
		t.Fatal(err)
	}
}

// drain runs the queue at now until nothing is due.
func (f *fixture) drain(t *testing.T, now time.Time) {
	t.Helper()
	q := f.srv.App.Informed.Queue()
	q.Now = func() time.Time { return now }
	if _, err := q.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func sentRows(t *testing.T, f *fixture, bucketID int64) int {
	t.Helper()
	var n int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM notices_sent WHERE bucket_id = ?`, bucketID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Two workers race over the jobs of a final report (the fan-out and the
// access's message, plus a second job for the same event queued by hand):
// exactly one e-mail goes out, in the letter's language, naming the
// department and nothing medical. A later change of the final report is
// the same event: no second message. The month's count says one e-mail.
func TestReportReadyTwoWorkersOneMessage(t *testing.T) {
	f := newFixture(t)
	st := f.study(t, "P1", 10)
	b := f.bucket(t, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org",
		Scope: database.ScopeImagesReport, Language: "nl"}, informed.Settings{ReadyNotice: true}, st)
	f.report(t, st, ingest.StatusFinal, "Secret finding: pneumothorax", nil)
	ctx := context.Background()
	// The same event queued twice under another key: the claim still sends once.
	if err := jobs.Enqueue(ctx, f.srv.DB, informed.KindNotice, "dup", map[string]any{"study_id": st.ID, "event": "report", "bucket_id": b.ID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := f.srv.App.Informed.Queue()
			<-start
			for range 4 { // several rounds: the fan-out's jobs are due right after it
				if _, err := q.Drain(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	f.drain(t, time.Now())
	msgs := f.mail.To(t, "zoe@example.org")
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want exactly 1", len(msgs))
	}
	m := msgs[0]
	if !strings.Contains(m.Text, "Radiology NORTH") || !strings.Contains(m.Subject, "resultaat") {
		t.Fatalf("not the Dutch message naming the department: %q / %q", m.Subject, m.Text)
	}
	for _, medical := range []string{"pneumothorax", "CT thorax", "Peeters"} {
		if strings.Contains(m.Text, medical) || strings.Contains(m.HTML, medical) || strings.Contains(m.Subject, medical) {
			t.Fatalf("the message names %q", medical)
		}
	}
	var audited int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ? AND bucket_id = ? AND details->>'channel' = 'email'`,
		informed.ActionNoticeSent, b.ID).Scan(ctx, &audited); err != nil || audited != 1 {
		t.Fatalf("%d audit rows (%v), want 1", audited, err)
	}
	f.report(t, st, ingest.StatusFinal, "Corrected text", nil)
	f.drain(t, time.Now())
	if n := len(f.mail.To(t, "zoe@example.org")); n != 1 {
		t.Fatalf("a changed final report sent again: %d messages", n)
	}
	mc, err := f.srv.App.Informed.SentThisMonth(ctx, f.dept.ID)
	if err != nil || mc.Email != 1 || mc.SMS != 0 {
		t.Fatalf("month count %+v %v", mc, err)
	}
}

// Under embargo nothing goes out; once it passes, one SMS. A preliminary
// report never tells anyone.
func TestReportReadyAfterEmbargo(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	st := f.study(t, "P2", 10)
	b := f.bucket(t, testserver.BucketSpec{Verification: database.VerifySMS, Destination: "+32470123401",
		Scope: database.ScopeImagesReport, Language: "fr"}, informed.Settings{ReadyNotice: true}, st)
	f.report(t, st, ingest.StatusPreliminary, "draft", nil)
	f.drain(t, now)
	if n := len(f.vonage.texts(b.Destination)); n != 0 {
		t.Fatalf("a preliminary report sent %d messages", n)
	}
	later := now.Add(2 * time.Hour)
	f.report(t, st, ingest.StatusFinal, "final", &later)
	f.drain(t, now.Add(time.Hour))
	if n := len(f.vonage.texts(b.Destination)); n != 0 {
		t.Fatalf("under embargo: %d messages", n)
	}
	f.drain(t, now.Add(3*time.Hour))
	texts := f.vonage.texts(b.Destination)
	if len(texts) != 1 || !strings.Contains(texts[0], "Radiology NORTH") || !strings.Contains(texts[0], "disponible") {
		t.Fatalf("after the embargo: %q", texts)
	}
	f.drain(t, now.Add(4*time.Hour))
	if n := len(f.vonage.texts(b.Destination)); n != 1 {
		t.Fatalf("%d messages after a second round", n)
	}
}

// A report printed under embargo before the access asked: the print
// queues the embargo's end itself.
func TestEmbargoSetBeforePrint(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	st := f.study(t, "P7", 10)
	later := now.Add(2 * time.Hour)
	f.report(t, st, ingest.StatusFinal, "final", &later)
	b := f.bucket(t, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "emb@example.org",
		Scope: database.ScopeImagesReport}, informed.Settings{ReadyNotice: true}, st)
	f.drain(t, now.Add(3*time.Hour))
	if n := len(f.mail.To(t, "emb@example.org")); n != 1 || sentRows(t, f, b.ID) != 1 {
		t.Fatalf("%d messages after the embargo, want 1", n)
	}
}

// Nobody is told when the rules say no: the access was revoked, is
// blocked, has expired, shows no report (images only), did not ask, or is a
// date-of-birth access without a contact; with a contact it is told.
func TestReportReadyRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	email := func(addr string) testserver.BucketSpec {
		return testserver.BucketSpec{Verification: database.VerifyEmail, Destination: addr, Scope: database.ScopeImagesReport}
	}
	type tc struct {
		name string
		b    *database.Bucket
		to   string
		want int
	}
	var cases []tc
	add := func(name, to string, want int, spec testserver.BucketSpec, set informed.Settings) *database.Study {
		st := f.study(t, "R-"+name, 10)
		cases = append(cases, tc{name, f.bucket(t, spec, set, st), to, want})
		return st
	}
	on := informed.Settings{ReadyNotice: true}
	var studies []*database.Study
	studies = append(studies, add("revoked", "revoked@example.org", 0, email("revoked@example.org"), on))
	studies = append(studies, add("blocked", "blocked@example.org", 0, email("blocked@example.org"), on))
	studies = append(studies, add("imagesonly", "images@example.org", 0,
		testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "images@example.org", Scope: database.ScopeImages}, on))
	studies = append(studies, add("notasked", "notasked@example.org", 0, email("notasked@example.org"), informed.Settings{}))
	studies = append(studies, add("anonymized", "anon@example.org", 0,
		testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "anon@example.org", Scope: database.ScopeImagesReport, Anonymize: true}, on))
	studies = append(studies, add("dobnocontact", "", 0, testserver.BucketSpec{Scope: database.ScopeImagesReport}, on))
	studies = append(studies, add("dobcontact", "dob@example.org", 1, testserver.BucketSpec{Scope: database.ScopeImagesReport},
		informed.Settings{ReadyNotice: true, ContactChannel: "email", Contact: "dob@example.org"}))
	expiring := add("expired", "expired@example.org", 0, testserver.BucketSpec{Verification: database.VerifyEmail,
		Destination: "expired@example.org", Scope: database.ScopeImagesReport, ValidUntil: f.srv.App.Buckets.Today().AddDate(0, 0, 1)}, on)
	if _, err := f.srv.DB.NewRaw(`UPDATE buckets SET state = 'revoked' WHERE id = ?`, cases[0].b.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.DB.NewRaw(`UPDATE buckets SET state = 'blocked', failures = 5, blocked_at = now() WHERE id = ?`, cases[1].b.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, st := range studies {
		f.report(t, st, ingest.StatusFinal, "final", nil)
	}
	f.drain(t, time.Now())
	// The expiring access's report comes once its validity has passed.
	f.report(t, expiring, ingest.StatusFinal, "final", nil)
	f.drain(t, time.Now().AddDate(0, 0, 3))
	for _, c := range cases {
		got := sentRows(t, f, c.b.ID)
		if c.to != "" {
			if n := len(f.mail.To(t, c.to)); n != got {
				t.Errorf("%s: %d e-mails but %d rows", c.name, n, got)
			}
		}
		if got != c.want {
			t.Errorf("%s: %d messages, want %d", c.name, got, c.want)
		}
	}
}

// Images arriving for a study that had none tell the patient once; more
// images of the same study do not.
func TestImagesArriveOnce(t *testing.T) {
	f := newFixture(t)
	st := f.study(t, "P3", 0)
	b := f.bucket(t, testserver.BucketSpec{Verification: database.VerifySMS, Destination: "+32470123402", Language: "de"},
		informed.Settings{ReadyNotice: true}, st)
	im := &ingest.Importer{DB: f.srv.DB, Store: f.store, DepartmentID: f.dept.ID}
	id := dicomtest.Ident{PatientID: "P3", PatientName: "Peeters^Zoë", StudyUID: st.StudyUID, SeriesUID: st.StudyUID + ".1"}
	for i, sop := range []string{".1.1", ".1.2"} {
		data := dicomtest.Encode(t, dicomtest.Image(id, st.StudyUID+sop, 1), dicomtest.Syntaxes[0])
		if res := im.Import(context.Background(), "ct.dcm", bytes.NewReader(data)); res.StudyID != st.ID {
			t.Fatalf("import %d: %+v", i, res)
		}
		f.drain(t, time.Now())
	}
	texts := f.vonage.texts(b.Destination)
	if len(texts) != 1 || !strings.Contains(texts[0], "Bilder") || !strings.Contains(texts[0], "Radiology NORTH") {
		t.Fatalf("SMS after two imports: %q", texts)
	}
	if n := testdb.Count(t, f.srv.DB, "jobs"); n != 2 { // the study's job and the access's
		t.Fatalf("%d jobs, want 2", n)
	}
}
