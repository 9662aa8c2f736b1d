package statusfw_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

var birth = time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)

// fixture: two departments, one user of every role, a patient of NORTH
// with two studies, and a patient of SOUTH.
type fixture struct {
	srv                          *testserver.Server
	north, south                 *database.Department
	staffN, adminN, adminS, desk *database.User
	studiesN                     []*database.Study
	studyS                       *database.Study
	clients                      map[string]*testserver.Client
	patientBucket                *database.Bucket
	patientNumber                refnum.Number
}

// Names that must never reach a page the viewer may not see.
const (
	northFamily = "Quibbleton"
	southFamily = "Vandermeulen"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := testserver.New(t)
	f := &fixture{srv: srv, clients: map[string]*testserver.Client{}}
	f.north = testserver.MustDepartment(t, srv.DB, "NORTH")
	f.south = testserver.MustDepartment(t, srv.DB, "SOUTH")
	bd := birth
	f.studiesN = []*database.Study{
		testserver.MustPatientStudy(t, srv.DB, f.north, "PN-1", northFamily, "Ada", &bd),
		testserver.MustPatientStudy(t, srv.DB, f.north, "PN-1", northFamily, "Ada", &bd),
	}
	f.studyS = testserver.MustPatientStudy(t, srv.DB, f.south, "PS-1", southFamily, "Bert", &bd)
	var c *testserver.Client
	f.staffN, c = srv.SignedIn(t, "nstaff", database.RoleStaff, f.north)
	f.clients["staff"] = c
	f.adminN, c = srv.SignedIn(t, "nadmin", database.RoleAdmin, f.north)
	f.clients["admin"] = c
	f.adminS, c = srv.SignedIn(t, "sadmin", database.RoleAdmin, f.south)
	f.clients["other admin"] = c
	f.desk, c = srv.SignedIn(t, "desk", database.RoleServiceDesk, nil)
	f.clients["service desk"] = c
	out := srv.Client(t)
	out.Get("/staff/signin")
	f.clients["signed out"] = out
	// A patient signed in to a bucket of NORTH (its own, active, bucket).
	f.patientBucket, f.patientNumber = srv.MustBucket(t, f.staffN, f.studiesN[:1], testserver.BucketSpec{})
	p := srv.Client(t)
	p.Get("/")
	if res, _ := p.PostForm("/p/signin", url.Values{"ref": {f.patientNumber.Canonical()}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("patient sign-in answered %d", res.StatusCode)
	}
	f.clients["patient"] = p
	return f
}

// blockedBucket prints a two-study bucket in NORTH and blocks it as five
// failures would.
func (f *fixture) blockedBucket(t *testing.T) *database.Bucket {
	t.Helper()
	b, _ := f.srv.MustBucket(t, f.staffN, f.studiesN, testserver.BucketSpec{})
	if _, err := f.srv.DB.ExecContext(context.Background(), `UPDATE buckets SET state = 'blocked', failures = 5, blocked_at = now() WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) bucketState(t *testing.T, id int64) (string, int) {
	t.Helper()
	var row struct {
		State    string `bun:"state"`
		Failures int    `bun:"failures"`
	}
	if err := f.srv.DB.NewRaw(`SELECT state, failures FROM buckets WHERE id = ?`, id).Scan(context.Background(), &row); err != nil {
		t.Fatal(err)
	}
	return row.State, row.Failures
}

var roles = []string{"staff", "admin", "other admin", "service desk", "signed out", "patient"}

// Every route Status Forwarding adds × every role × method: the exact
// status, and the NORTH patient's name absent wherever the viewer may not
// see it. Forged fields ("department", "role") change nothing.
func TestStatusForwardingAuthorization(t *testing.T) {
	f := newFixture(t)
	type want map[string]int
	const ok, see, redirect, forbidden, notFound, unauth = 200, 303, 303, 403, 404, 401
	actionForm := func(name string, b *database.Bucket) url.Values {
		v := url.Values{"reason": {"patient called the desk"}, "department": {strconv.FormatInt(f.north.ID, 10)}, "role": {"servicedesk"}}
		switch name {
		case "extend":
			v.Set("valid_until", f.srv.App.Buckets.Today().AddDate(0, 0, 10).Format(time.DateOnly))
		case "remove":
			v.Set("study", strconv.FormatInt(f.studiesN[1].ID, 10))
		}
		return v
	}
	cases := []struct {
		method, path string // path: %B is a fresh blocked NORTH bucket, %S the NORTH study
		action       string // for POST: the form
		want         want
		// which roles may see the NORTH patient's name in a 200 answer
	}{
		{"GET", "/staff/status", "", want{"staff": ok, "admin": ok, "other admin": ok, "service desk": ok, "signed out": redirect, "patient": redirect}},
		{"GET", "/staff/status/%B/row", "", want{"staff": ok, "admin": ok, "other admin": notFound, "service desk": ok, "signed out": redirect, "patient": redirect}},
		{"GET", "/staff/studies/%S/access.csv", "", want{"staff": ok, "admin": ok, "other admin": notFound, "service desk": ok, "signed out": redirect, "patient": redirect}},
		{"GET", "/staff/studies/%S", "", want{"staff": ok, "admin": ok, "other admin": notFound, "service desk": ok, "signed out": redirect, "patient": redirect}},
	}
	for _, a := range []string{"unlock", "extend", "remove", "revoke"} {
		cases = append(cases,
			struct {
				method, path string
				action       string
				want         want
			}{"GET", "/staff/status/%B/" + a, "", want{"staff": forbidden, "admin": ok, "other admin": notFound, "service desk": ok, "signed out": redirect, "patient": redirect}},
			struct {
				method, path string
				action       string
				want         want
			}{"POST", "/staff/status/%B/" + a, a, want{"staff": forbidden, "admin": see, "other admin": notFound, "service desk": see, "signed out": unauth, "patient": unauth}},
		)
	}
	for _, tc := range cases {
		for _, role := range roles {
			t.Run(tc.method+" "+tc.path+" as "+role, func(t *testing.T) {
				b := f.blockedBucket(t)
				path := strings.ReplaceAll(tc.path, "%B", strconv.FormatInt(b.ID, 10))
				path = strings.ReplaceAll(path, "%S", strconv.FormatInt(f.studiesN[0].ID, 10))
				c := f.clients[role]
				var res *http.Response
				var body string
				if tc.method == "GET" {
					res, body = c.Get(path)
				} else {
					res, body = c.PostForm(path, actionForm(tc.action, b))
				}
				if res.StatusCode != tc.want[role] {
					t.Fatalf("%s %s as %s: %d, want %d\n%.400s", tc.method, path, role, res.StatusCode, tc.want[role], body)
				}
				mayRead := res.StatusCode == http.StatusOK && role != "other admin"
				if !mayRead && strings.Contains(body, northFamily) {
					t.Fatalf("%s %s as %s (%d) shows the patient's name", tc.method, path, role, res.StatusCode)
				}
				if tc.method == "POST" {
					state, _ := f.bucketState(t, b.ID)
					changed := state != database.BucketBlocked
					if tc.action == "extend" || tc.action == "remove" {
						var n int
						_ = f.srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE bucket_id = ? AND action LIKE 'bucket.%' AND action <> 'bucket.print'`, b.ID).Scan(context.Background(), &n)
						changed = n > 0
					}
					if changed != (res.StatusCode == http.StatusSeeOther) {
						t.Fatalf("%s as %s answered %d but the bucket changed=%v", path, role, res.StatusCode, changed)
					}
				}
				if role == "staff" && res.StatusCode == http.StatusOK && tc.path == "/staff/status" {
					doc := testserver.Doc(t, body)
					if doc.Find("[data-testid=unlock], [data-testid=revoke], [data-testid=extend]").Length() != 0 {
						t.Fatal("plain staff see action buttons")
					}
					if doc.Find("tr[data-bucket='"+strconv.FormatInt(b.ID, 10)+"'][data-state=blocked]").Length() != 1 {
						t.Fatal("plain staff do not see the blocked state")
					}
				}
				if role == "admin" && res.StatusCode == http.StatusOK && tc.path == "/staff/status" {
					if testserver.Doc(t, body).Find("#bucket-"+strconv.FormatInt(b.ID, 10)+" [data-testid=unlock]").Length() != 1 {
						t.Fatal("the department admin has no unlock button")
					}
				}
			})
		}
	}
	// The other department's admin sees their own department's list, never NORTH's buckets.
	_, body := f.clients["other admin"].Get("/staff/status?department=" + strconv.FormatInt(f.north.ID, 10))
	if strings.Contains(body, northFamily) {
		t.Fatal("a forged department filter showed another department's buckets")
	}
}

// Blocked buckets first; filters; keyset pages; the service desk sees all
// departments with a department filter; anonymized buckets show no name.
func TestStatusForwardingListAndFilters(t *testing.T) {
	f := newFixture(t)
	blocked := f.blockedBucket(t)
	var ids []int64
	for i := 0; i < 5; i++ {
		b, _ := f.srv.MustBucket(t, f.staffN, f.studiesN[:1], testserver.BucketSpec{})
		ids = append(ids, b.ID)
	}
	anon, _ := f.srv.MustBucket(t, f.adminN, f.studiesN[:1], testserver.BucketSpec{Anonymize: true})
	southB, _ := f.srv.MustBucket(t, f.adminS, []*database.Study{f.studyS}, testserver.BucketSpec{})
	if _, err := f.srv.DB.ExecContext(context.Background(), `UPDATE buckets SET valid_until = current_date - 1 WHERE id = ?`, ids[0]); err != nil {
		t.Fatal(err)
	}
	rowIDs := func(body string) []string {
		var out []string
		testserver.Doc(t, body).Find("tr[data-bucket]").Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("data-bucket", "")) })
		return out
	}
	_, body := f.clients["admin"].Get("/staff/status")
	got := rowIDs(body)
	if len(got) != 8 || got[0] != strconv.FormatInt(blocked.ID, 10) {
		t.Fatalf("rows %v: want 8 with the blocked bucket %d first", got, blocked.ID)
	}
	if strings.Contains(body, southFamily) {
		t.Fatal("NORTH admin sees SOUTH's bucket")
	}
	doc := testserver.Doc(t, body)
	anonRow := doc.Find("#bucket-" + strconv.FormatInt(anon.ID, 10))
	if txt := anonRow.Find("[data-col=patient]").Text(); strings.Contains(txt, northFamily) || !strings.Contains(txt, "Anonymous") {
		t.Fatalf("anonymized row shows %q", txt)
	}
	if doc.Find("#bucket-"+strconv.FormatInt(ids[0], 10)).AttrOr("data-state", "") != "expired" {
		t.Fatal("a bucket past its validity is not shown expired")
	}
	for _, tc := range []struct {
		q    string
		want int
	}{
		{"state=blocked", 1}, {"state=expired", 1}, {"state=active", 6}, {"state=revoked", 0},
		{"patient=quibble", 7}, {"patient=PN-1", 7}, {"patient=" + anon.AnonNumber, 1}, {"patient=nobody", 0},
		{"creator=" + strconv.FormatInt(f.adminN.ID, 10), 1},
		{"from=2000-01-01&to=2000-01-02", 0}, {"from=" + time.Now().UTC().Format(time.DateOnly), 8},
	} {
		_, body := f.clients["admin"].Get("/staff/status?" + tc.q)
		if n := len(rowIDs(body)); n != tc.want {
			t.Errorf("?%s: %d rows, want %d", tc.q, n, tc.want)
		}
	}
	// The service desk: all departments, or one.
	_, body = f.clients["service desk"].Get("/staff/status")
	if !strings.Contains(body, southFamily) || !strings.Contains(body, northFamily) {
		t.Fatal("the service desk does not see every department")
	}
	_, body = f.clients["service desk"].Get("/staff/status?department=" + strconv.FormatInt(f.south.ID, 10))
	if got := rowIDs(body); len(got) != 1 || got[0] != strconv.FormatInt(southB.ID, 10) {
		t.Fatalf("department filter rows %v", got)
	}
	// Keyset pages of 50: 60 more buckets, every row exactly once, blocked first.
	for i := 0; i < 60; i++ {
		f.srv.MustBucket(t, f.staffN, f.studiesN[:1], testserver.BucketSpec{})
	}
	seen := map[string]bool{}
	next := "/staff/status"
	pages := 0
	for next != "" {
		res, body := f.clients["staff"].Get(next)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", next, res.StatusCode)
		}
		for _, id := range rowIDs(body) {
			if seen[id] {
				t.Fatalf("bucket %s on two pages", id)
			}
			seen[id] = true
		}
		if pages == 0 && rowIDs(body)[0] != strconv.FormatInt(blocked.ID, 10) {
			t.Fatal("blocked bucket not first")
		}
		next = testserver.Doc(t, body).Find("[data-testid=next]").AttrOr("href", "")
		pages++
	}
	if len(seen) != 68 || pages != 2 {
		t.Fatalf("%d buckets over %d pages, want 68 over 2", len(seen), pages)
	}
	if res, _ := f.clients["staff"].Get("/staff/status?after=garbage"); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged cursor answered %d", res.StatusCode)
	}
}

// Refusals come back as the form with a translated message (422); htmx
// gets the row re-rendered; each action writes one audit event with its reason.
func TestStatusForwardingActions(t *testing.T) {
	f := newFixture(t)
	admin := f.clients["admin"]
	b := f.blockedBucket(t)
	id := strconv.FormatInt(b.ID, 10)
	post := func(action string, form url.Values, header ...string) (*http.Response, string) {
		admin.Get("/staff/status/" + id + "/" + action)
		return admin.PostForm("/staff/status/"+id+"/"+action, form, header...)
	}
	// No reason: 422 with the message, nothing changed.
	res, body := post("unlock", url.Values{"reason": {" "}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Give a reason of 3 to 500 characters.") {
		t.Fatalf("unlock without reason: %d\n%.300s", res.StatusCode, body)
	}
	if st, _ := f.bucketState(t, b.ID); st != database.BucketBlocked {
		t.Fatal("unlocked without a reason")
	}
	// htmx: the row comes back, now active with the counter reset.
	res, body = post("unlock", url.Values{"reason": {"patient called, identity checked"}}, "HX-Request", "true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("htmx unlock: %d", res.StatusCode)
	}
	row := testserver.Doc(t, "<table>"+body+"</table>").Find("tr#bucket-" + id)
	if row.Length() != 1 || row.AttrOr("data-state", "") != "active" || strings.TrimSpace(row.Find("[data-col=failures]").Text()) != "0" {
		t.Fatalf("htmx answer is not the updated row:\n%.500s", body)
	}
	if st, fails := f.bucketState(t, b.ID); st != database.BucketActive || fails != 0 {
		t.Fatalf("after unlock: %s, %d failures", st, fails)
	}
	// Unlocking again: not blocked (422).
	res, body = post("unlock", url.Values{"reason": {"again"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This bucket is not blocked.") {
		t.Fatalf("second unlock: %d", res.StatusCode)
	}
	// Extend past the department maximum (NORTH: none set, so 5 years) or into the past: 422.
	for _, d := range []string{time.Now().AddDate(6, 0, 0).Format(time.DateOnly), time.Now().AddDate(0, 0, -1).Format(time.DateOnly)} {
		res, body = post("extend", url.Values{"reason": {"longer treatment"}, "valid_until": {d}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "maximum validity") {
			t.Fatalf("extend to %s: %d", d, res.StatusCode)
		}
	}
	if _, err := f.srv.DB.ExecContext(context.Background(), `UPDATE departments SET max_validity_n = 2, max_validity_unit = 'month' WHERE id = ?`, f.north.ID); err != nil {
		t.Fatal(err)
	}
	res, body = post("extend", url.Values{"reason": {"longer treatment"}, "valid_until": {f.srv.App.Buckets.Today().AddDate(0, 3, 0).Format(time.DateOnly)}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("extend past a 2-month maximum: %d", res.StatusCode)
	}
	until := f.srv.App.Buckets.Today().AddDate(0, 1, 15).Format(time.DateOnly)
	res, _ = post("extend", url.Values{"reason": {"longer treatment"}, "valid_until": {until}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/status?done=extend&bucket="+id {
		t.Fatalf("extend: %d -> %s", res.StatusCode, res.Header.Get("Location"))
	}
	doc := admin.GetDoc(res.Header.Get("Location"), http.StatusOK)
	if !strings.Contains(doc.Find("[data-testid=done]").Text(), "#"+id) || doc.Find("#bucket-"+id+" [data-col=valid]").Text() != until {
		t.Fatal("after extend: no message or the old date")
	}
	// Remove one study, then the last one is refused.
	res, _ = post("remove", url.Values{"reason": {"wrong study"}, "study": {strconv.FormatInt(f.studiesN[1].ID, 10)}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	res, body = post("remove", url.Values{"reason": {"wrong study"}, "study": {strconv.FormatInt(f.studiesN[0].ID, 10)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Revoke the bucket instead") {
		t.Fatalf("remove last study: %d", res.StatusCode)
	}
	res, body = post("remove", url.Values{"reason": {"wrong study"}, "study": {strconv.FormatInt(f.studyS.ID, 10)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose one of the bucket") {
		t.Fatalf("remove a study of another bucket: %d", res.StatusCode)
	}
	res, _ = post("revoke", url.Values{"reason": {"letter lost"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	res, body = post("revoke", url.Values{"reason": {"letter lost"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This bucket is revoked.") {
		t.Fatalf("second revoke: %d", res.StatusCode)
	}
	// One audit event per successful action, with its reason and the admin.
	var evs []struct {
		Action string `bun:"action"`
		Reason string `bun:"reason"`
		Actor  string `bun:"actor_name"`
	}
	if err := f.srv.DB.NewRaw(`SELECT action, details->>'reason' AS reason, actor_name FROM audit_events WHERE bucket_id = ? AND action <> ? ORDER BY id`, b.ID, audit.BucketPrint).Scan(context.Background(), &evs); err != nil {
		t.Fatal(err)
	}
	wantActions := []string{audit.BucketUnlock, audit.BucketExtend, audit.BucketRemoveStudy, audit.BucketRevoke}
	if len(evs) != len(wantActions) {
		t.Fatalf("audit events %+v", evs)
	}
	for i, e := range evs {
		if e.Action != wantActions[i] || e.Reason == "" || e.Actor != "nadmin" {
			t.Fatalf("audit event %d: %+v", i, e)
		}
	}
}

var sixDigitCode = regexp.MustCompile(`\b[0-9]{6}\b`)

func outboxCode(t *testing.T, srv *testserver.Server, dest string) string {
	t.Helper()
	msgs, err := (&notify.Outbox{DB: srv.DB}).Recent(t.Context(), 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == dest {
			if code := sixDigitCode.FindString(m.Text); code != "" {
				return code
			}
		}
	}
	t.Fatalf("no code for %s in the outbox", dest)
	return ""
}

// End to end over HTTP: five wrong codes block the bucket; the patient is
// refused; the service desk unlocks it from Status Forwarding with a reason;
// the patient signs in with a new code.
func TestUnlockAfterFiveWrongCodesThenPatientSignsIn(t *testing.T) {
	f := newFixture(t)
	const dest = "ada.q@example.org"
	b, n := f.srv.MustBucket(t, f.staffN, f.studiesN, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: dest})
	signIn := url.Values{"ref": {n.Canonical()}, "dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}}
	p := f.srv.Client(t)
	p.Get("/")
	if res, _ := p.PostForm("/p/signin", signIn); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/code" {
		t.Fatalf("sign-in: %d -> %s", res.StatusCode, res.Header.Get("Location"))
	}
	code := outboxCode(t, f.srv, dest)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < 5; i++ {
		p.Get("/p/code")
		p.PostForm("/p/code", url.Values{"code": {wrong}})
	}
	if st, fails := f.bucketState(t, b.ID); st != database.BucketBlocked || fails != 5 {
		t.Fatalf("after five wrong codes: %s, %d", st, fails)
	}
	// The service desk finds it blocked, first in the list, and unlocks it.
	desk := f.clients["service desk"]
	doc := desk.GetDoc("/staff/status", http.StatusOK)
	first := doc.Find("tr[data-bucket]").First()
	if first.AttrOr("data-bucket", "") != strconv.FormatInt(b.ID, 10) || strings.TrimSpace(first.Find("[data-col=failures]").Text()) != "5" {
		t.Fatal("the blocked bucket is not first with 5 failures")
	}
	href, _ := first.Find("[data-testid=unlock]").Attr("href")
	desk.GetDoc(href, http.StatusOK)
	res, _ := desk.PostForm(href, url.Values{"reason": {"patient called, identity checked by phone"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("unlock: %d", res.StatusCode)
	}
	// A minute and more passes before the patient tries again (the resend
	// cooldown counts from the last code sent).
	if _, err := f.srv.DB.ExecContext(context.Background(), `UPDATE otp_sends SET at = at - interval '5 minutes' WHERE bucket_id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	p2 := f.srv.Client(t)
	p2.Get("/")
	if res, body := p2.PostForm("/p/signin", signIn); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/code" {
		t.Fatalf("sign-in after unlock: %d -> %s\n%.300s", res.StatusCode, res.Header.Get("Location"), body)
	}
	fresh := outboxCode(t, f.srv, dest)
	if res, _ := p2.PostForm("/p/code", url.Values{"code": {fresh}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/" {
		t.Fatalf("new code: %d -> %s", res.StatusCode, res.Header.Get("Location"))
	}
	p2.GetDoc("/p/", http.StatusOK)
}

// Revoking from Status Forwarding ends a live patient session at its next request.
func TestRevokeEndsLivePatientSession(t *testing.T) {
	f := newFixture(t)
	p := f.clients["patient"]
	p.GetDoc("/p/", http.StatusOK)
	admin := f.clients["admin"]
	path := "/staff/status/" + strconv.FormatInt(f.patientBucket.ID, 10) + "/revoke"
	admin.GetDoc(path, http.StatusOK)
	if res, _ := admin.PostForm(path, url.Values{"reason": {"letter sent to the wrong address"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	res, body := p.Get("/p/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" || strings.Contains(body, northFamily) {
		t.Fatalf("after revoke /p/ answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = p.Get("/p/studies/" + strconv.FormatInt(f.studiesN[0].ID, 10))
	if res.StatusCode == http.StatusOK {
		t.Fatal("the study is still open to the revoked patient")
	}
}

// The study page lists the buckets with the study and every access; the
// CSV export has the accesses, with formulas defused.
func TestStudyAccessLogAndCSV(t *testing.T) {
	f := newFixture(t)
	st := f.studiesN[0]
	sid := strconv.FormatInt(st.ID, 10)
	// The patient (signed in to patientBucket) opens the study; staff too.
	f.clients["patient"].Get("/p/studies/" + sid)
	f.clients["staff"].GetDoc("/staff/studies/"+sid, http.StatusOK)
	// A download by a patient of a bucket lists its studies; a staff user
	// whose name starts with "=" must not become a formula.
	ctx := context.Background()
	bid := f.patientBucket.ID
	if err := audit.Record(ctx, f.srv.DB, &audit.Event{Action: audit.StudyDownload, ActorKind: "patient", ActorName: "bucket:" + strconv.FormatInt(bid, 10),
		BucketID: &bid, DepartmentID: &f.north.ID, Details: map[string]any{"studies": []int64{st.ID}}}); err != nil {
		t.Fatal(err)
	}
	if err := audit.Record(ctx, f.srv.DB, &audit.Event{Action: audit.ReportView, ActorKind: "staff", ActorName: "=HYPERLINK(\"x\")",
		DepartmentID: &f.north.ID, Details: map[string]any{"study_id": st.ID}}); err != nil {
		t.Fatal(err)
	}
	// Another study's access is not listed.
	if err := audit.Record(ctx, f.srv.DB, &audit.Event{Action: audit.StudyView, ActorKind: "staff", ActorName: "elsewhere",
		DepartmentID: &f.north.ID, Details: map[string]any{"study_id": f.studiesN[1].ID}}); err != nil {
		t.Fatal(err)
	}
	doc := f.clients["admin"].GetDoc("/staff/studies/"+sid, http.StatusOK)
	if doc.Find("[data-testid=study-buckets] tr[data-bucket='"+strconv.FormatInt(bid, 10)+"']").Length() != 1 {
		t.Fatal("the study page does not list the bucket")
	}
	log := doc.Find("[data-testid=study-access-log]").Text()
	for _, want := range []string{"Patient of bucket #" + strconv.FormatInt(bid, 10), "Staff user nstaff", "Download", "Report", "Images (study page)"} {
		if !strings.Contains(log, want) {
			t.Errorf("access log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "elsewhere") {
		t.Error("another study's access is listed")
	}
	res, body := f.clients["admin"].Get("/staff/studies/" + sid + "/access.csv")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("CSV: %d %v", res.StatusCode, res.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+5 || recs[0][0] != "Time (UTC)" {
		t.Fatalf("CSV rows %d (want header + 5):\n%s", len(recs), body)
	}
	kinds := map[string]int{}
	for _, r := range recs[1:] {
		if len(r) != 9 || r[8] != st.StudyUID {
			t.Fatalf("CSV row %v", r)
		}
		kinds[r[6]]++
		if strings.HasPrefix(r[4], "=") || strings.HasPrefix(r[1], "=") {
			t.Fatalf("formula left in %v", r)
		}
		if r[2] == "patient" && r[3] != strconv.FormatInt(bid, 10) {
			t.Fatalf("patient row without its bucket: %v", r)
		}
	}
	// Study views: the patient, nstaff and nadmin (the page above).
	if kinds[audit.StudyView] != 3 || kinds[audit.StudyDownload] != 1 || kinds[audit.ReportView] != 1 {
		t.Fatalf("CSV actions %v", kinds)
	}
	if !strings.Contains(body, `'=HYPERLINK`) {
		t.Fatalf("formula not defused:\n%s", body)
	}
}
