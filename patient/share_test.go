package patient_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// shareFixture is a patient with three studies of one image each, printed
// on one images-and-report bucket, signed in.
type shareFixture struct {
	*fixture
	bucket  *database.Bucket
	number  string
	patient *testserver.Client
	images  []int64 // one instance per study
}

func smallImage(t testing.TB, sop string) []byte {
	t.Helper()
	b, err := dicom.Synth{StudyUID: "2.25.9", SeriesUID: "2.25.9.1", SOPUID: sop, PatientID: "P001", Modality: "CR",
		Rows: 32, Cols: 32, BitsAllocated: 16, BitsStored: 12, Pixel: func(_, i, _ int) int { return i % 4000 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newShareFixture(t *testing.T) *shareFixture {
	t.Helper()
	f := newFixture(t)
	bd := birth
	f.studies = append(f.studies, testserver.MustPatientStudy(t, f.srv.DB, f.dept, "P001", "Łukasik", "Zoë", &bd))
	sf := &shareFixture{fixture: f}
	for i, st := range f.studies {
		inst, _ := f.srv.MustStoredInstance(t, st, smallImage(t, "2.25.9.1."+strconv.Itoa(i)), 1)
		sf.images = append(sf.images, inst)
		if _, err := f.srv.DB.ExecContext(t.Context(), `UPDATE studies SET num_instances = 1 WHERE id = ?`, st.ID); err != nil {
			t.Fatal(err)
		}
		withReport(t, f.srv, st, "final", nil)
	}
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Scope: database.ScopeImagesReport})
	sf.bucket, sf.number, sf.patient = b, n.Canonical(), signedIn(t, f.srv, n, birth)
	return sf
}

func shareForm(to string, studies []int64, d time.Time) url.Values {
	v := url.Values{"to": {to}, "message": {"Für Dr. Peeters – knee"}, "dob_day": {d.Format("2")}, "dob_month": {d.Format("1")}, "dob_year": {d.Format("2006")}}
	for _, id := range studies {
		v.Add("studies", strconv.FormatInt(id, 10))
	}
	return v
}

var shareLink = regexp.MustCompile(`https?://[^\s"<]+/s/[A-Za-z0-9_-]+`)

// outboxText is the newest message to dest in the dev outbox.
func outboxText(t *testing.T, srv *testserver.Server, dest string) string {
	t.Helper()
	msgs, err := (&notify.Outbox{DB: srv.DB}).Recent(t.Context(), 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == dest {
			return m.Text
		}
	}
	t.Fatalf("nothing for %s in the outbox", dest)
	return ""
}

// share creates a share of studies for the fixture's patient and returns
// the link from the doctor's message.
func (f *shareFixture) share(t *testing.T, to string, studies []int64) string {
	t.Helper()
	f.patient.Get("/p/shares/new")
	res, body := f.patient.PostForm("/p/shares", shareForm(to, studies, birth))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/shares?notice=sent" {
		t.Fatalf("share answered %d -> %q: %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	link := shareLink.FindString(outboxText(t, f.srv, to))
	if link == "" {
		t.Fatal("no link in the doctor's message")
	}
	return link
}

// doctorIn opens link as a new browser, asks for the code and types it.
func (f *shareFixture) doctorIn(t *testing.T, link, to string) *testserver.Client {
	t.Helper()
	u, _ := url.Parse(link)
	doc := f.srv.Client(t)
	page := doc.GetDoc(u.Path, http.StatusOK)
	if !strings.Contains(page.Find("[data-testid=share-department]").Text(), f.dept.Name) || !strings.Contains(page.Find("[data-testid=share-note]").Text(), "Dr. Peeters") {
		t.Fatal("the link's page names neither the department nor the patient's note")
	}
	res, _ := doc.PostForm(u.Path, url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/s/code" {
		t.Fatalf("send code answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	doc.Get("/s/code")
	code := sixDigits.FindString(outboxText(t, f.srv, to))
	res, body := doc.PostForm("/s/code", url.Values{"code": {code}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/" {
		t.Fatalf("right code answered %d -> %q: %s", res.StatusCode, res.Header.Get("Location"), body)
	}
	return doc
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// The walk-through: the patient shares two of three studies with a doctor's
// e-mail address (report not included); the doctor opens the link from the
// outbox, gets a code there, and sees exactly the two studies (pages,
// images, ZIP) and no report; the patient sees "opened" and revokes; the
// doctor's next request ends at the start page. The audit trail names the
// share for the doctor's views.
func TestShareWalkThrough(t *testing.T) {
	f := newShareFixture(t)
	to := "dr.peeters@example.org"
	shared, other := []int64{f.studies[0].ID, f.studies[1].ID}, f.studies[2].ID
	link := f.share(t, to, shared)
	if strings.Contains(outboxText(t, f.srv, to), f.studies[0].Patient.FamilyName) {
		t.Fatal("the doctor's message names the patient")
	}
	doc := f.doctorIn(t, link, to)

	list := doc.GetDoc("/p/", http.StatusOK)
	if n := list.Find("[data-testid=study-link]").Length(); n != 2 {
		t.Fatalf("doctor sees %d studies, want 2", n)
	}
	if list.Find("[data-testid=share-open]").Length() != 0 {
		t.Fatal("the doctor is offered to share the patient's images")
	}
	// The doctor reads how long the share lasts, not the patient's access.
	var shareUntil, accessUntil time.Time
	if err := f.srv.DB.NewRaw(`SELECT sh.valid_until, b.valid_until FROM shares sh JOIN buckets b ON b.id = sh.bucket_id`).Scan(context.Background(), &shareUntil, &accessUntil); err != nil {
		t.Fatal(err)
	}
	if shareUntil.Equal(accessUntil) {
		t.Fatalf("the fixture's share ends with its access (%s): the test cannot tell them apart", accessUntil.Format(time.DateOnly))
	}
	if text := list.Text(); !strings.Contains(text, shareUntil.Format(time.DateOnly)) || strings.Contains(text, accessUntil.Format(time.DateOnly)) {
		t.Fatalf("the doctor's page does not show the share's last day %s (access %s)", shareUntil.Format(time.DateOnly), accessUntil.Format(time.DateOnly))
	}
	for i, st := range f.studies {
		want := http.StatusOK
		if st.ID == other {
			want = http.StatusNotFound
		}
		if res, _ := doc.Get("/p/studies/" + id(st.ID)); res.StatusCode != want {
			t.Fatalf("study %d answered %d, want %d", i, res.StatusCode, want)
		}
		if res, _ := doc.Get("/p/images/" + id(f.images[i]) + "?size=128"); res.StatusCode != want {
			t.Fatalf("image %d answered %d, want %d", i, res.StatusCode, want)
		}
		// The report was not included (the patient's access has it).
		if res, _ := doc.Get("/p/studies/" + id(st.ID) + "/report"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("report of study %d answered %d to the doctor", i, res.StatusCode)
		}
	}
	if res, _ := f.patient.Get("/p/studies/" + id(other) + "/report"); res.StatusCode != http.StatusOK {
		t.Fatalf("the patient's own report answered %d", res.StatusCode)
	}
	res, body := doc.Get("/p/download")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("download answered %d", res.StatusCode)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	dcm, dicomdir := 0, false
	for _, zf := range zr.File {
		switch {
		case strings.HasSuffix(zf.Name, "DICOMDIR"):
			dicomdir = true
		case strings.Contains(zf.Name, "/IM") || strings.HasPrefix(zf.Name, "DICOM/"):
			dcm++
		}
	}
	if !dicomdir || dcm != 2 {
		names := []string{}
		for _, zf := range zr.File {
			names = append(names, zf.Name)
		}
		t.Fatalf("ZIP holds DICOMDIR %v and %d images, want 2: %v", dicomdir, dcm, names)
	}
	// The patient's own pages stay closed to the doctor.
	if res, _ := doc.Get("/p/shares"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the patient's shares answered %d to the doctor", res.StatusCode)
	}

	shares := f.patient.GetDoc("/p/shares", http.StatusOK)
	row := shares.Find("[data-testid=share-row]")
	if row.Length() != 1 || strings.TrimSpace(row.Find("[data-testid=share-opened]").Text()) != "Yes" || row.Find("[data-testid=share-last]").Length() != 1 {
		t.Fatalf("the patient's list does not show the share as opened: %q", row.Text())
	}
	// The patient's activity names the doctor's sign-in with its device.
	signIns := f.patient.GetDoc("/p/activity", http.StatusOK).Find("[data-testid=activity-row]").FilterFunction(func(_ int, r *goquery.Selection) bool {
		return strings.Contains(r.Text(), "Signed in") && strings.Contains(r.Text(), "A doctor you shared with")
	})
	if signIns.Length() != 1 || strings.Contains(signIns.Text(), "Device not recorded") || !strings.Contains(signIns.Text(), "(computer)") {
		t.Fatalf("the doctor's sign-in in the activity: %q", signIns.Text())
	}
	sid, _ := row.Attr("data-share")
	if res, _ := f.patient.PostForm("/p/shares/"+sid+"/revoke", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke answered %d", res.StatusCode)
	}
	res, _ = doc.Get("/p/studies/" + id(shared[0]))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("after the revoke the doctor's click answered %d -> %q, want the start page", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := f.patient.Get("/p/"); res.StatusCode != http.StatusOK {
		t.Fatalf("the patient's access answered %d after the revoke", res.StatusCode)
	}
	// The link itself no longer opens: the one answer for every failure.
	u, _ := url.Parse(link)
	res, gone := f.srv.Client(t).Get(u.Path)
	_, unknown := f.srv.Client(t).Get("/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if res.StatusCode != http.StatusNotFound || stripCSRF(gone) != stripCSRF(unknown) {
		t.Fatalf("a revoked link answered %d, or differently from an unknown one:\n%s\n---\n%s", res.StatusCode, stripCSRF(gone), stripCSRF(unknown))
	}

	var kinds []struct {
		Action    string `bun:"action"`
		ActorKind string `bun:"actor_kind"`
		ActorName string `bun:"actor_name"`
	}
	if err := f.srv.DB.NewRaw(`SELECT action, actor_kind, actor_name FROM audit_events WHERE bucket_id = ? AND action LIKE 'share.%' OR (bucket_id = ? AND actor_kind = 'share') ORDER BY id`,
		f.bucket.ID, f.bucket.ID).Scan(t.Context(), &kinds); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, k := range kinds {
		seen[k.Action] = k.ActorKind
	}
	for action, actor := range map[string]string{"share.create": "patient", "share.send": "share", "share.open": "share",
		"share.revoke": "patient", "study.view": "share", "study.download": "share"} {
		if seen[action] != actor && !(action == "share.send" && seen[action] == "patient") {
			t.Fatalf("audit: %s by %q, want %s (rows: %+v)", action, seen[action], actor, kinds)
		}
	}
}

var csrfField = regexp.MustCompile(`(value|content)="[^"]*"|"X-Csrf-Token": "[^"]*"`)

func stripCSRF(body string) string { return csrfField.ReplaceAllString(body, "") }

// A wrong birth date at the share form counts on the access like a wrong
// one at sign-in (a signed-in session is no free birth-date oracle), and
// nothing is shared; a malformed form counts nothing.
func TestShareBirthDateCounts(t *testing.T) {
	f := newShareFixture(t)
	f.patient.Get("/p/shares/new")
	res, _ := f.patient.PostForm("/p/shares", shareForm("not-an-address", []int64{f.studies[0].ID}, birth.AddDate(0, 0, 1)))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad address answered %d", res.StatusCode)
	}
	if n, _ := failuresOf(t, f.srv, f.bucket.ID); n != 0 {
		t.Fatalf("a malformed form counted %d failures", n)
	}
	res, body := f.patient.PostForm("/p/shares", shareForm("dr@example.org", []int64{f.studies[0].ID}, birth.AddDate(0, 0, 1)))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Attempts left before your access is blocked: 4") {
		t.Fatalf("wrong birth date answered %d", res.StatusCode)
	}
	if n, _ := failuresOf(t, f.srv, f.bucket.ID); n != 1 {
		t.Fatalf("wrong birth date counted %d failures, want 1", n)
	}
	var shares int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM shares`).Scan(t.Context(), &shares); err != nil || shares != 0 {
		t.Fatalf("%d shares after a wrong birth date (%v)", shares, err)
	}
	for range 4 {
		f.patient.PostForm("/p/shares", shareForm("dr@example.org", []int64{f.studies[0].ID}, birth.AddDate(0, 0, 1)))
	}
	if _, state := failuresOf(t, f.srv, f.bucket.ID); state != database.BucketBlocked {
		t.Fatalf("five wrong birth dates left the access %s", state)
	}
}

// The access's own end ends its shares: a doctor signed in before the
// access was revoked by staff is sent to the start page at the next click.
func TestShareEndsWithItsAccess(t *testing.T) {
	f := newShareFixture(t)
	to := "+32470123456"
	link := f.share(t, to, []int64{f.studies[0].ID})
	doc := f.doctorIn(t, link, to)
	if res, _ := doc.Get("/p/studies/" + id(f.studies[0].ID)); res.StatusCode != http.StatusOK {
		t.Fatalf("study answered %d", res.StatusCode)
	}
	// The number has had the day's codes through other shares: a second
	// share to it, opened in a Dutch browser, sends no code and says why.
	second := f.share(t, to, []int64{f.studies[1].ID})
	addr := buckets.ShareAddressHash(f.srv.App.Buckets.Key, notify.ChannelSMS, "+32 470 12 34 56")
	for range buckets.MaxShareCodesPerAddressDay {
		if _, err := f.srv.DB.ExecContext(t.Context(), `INSERT INTO share_address_sends (addr_hash, outcome) VALUES (?, 'sent')`, addr); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(second)
	nl := f.srv.Client(t)
	nl.Get(u.Path)
	if res, _ := nl.PostForm("/language", url.Values{"lang": {"nl"}, "back": {"/"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("language answered %d", res.StatusCode)
	}
	nl.Get(u.Path)
	res, _ := nl.PostForm(u.Path, url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/s/code?notice=addresslimit" {
		t.Fatalf("code past the address's cap answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	wantNL := "Uw adres of nummer heeft vandaag het maximale aantal codes ontvangen (20), voor alle delingen met u samen."
	if got := nl.GetDoc("/s/code?notice=addresslimit", http.StatusOK).Find("[data-testid=code-notice]").Text(); !strings.Contains(got, wantNL) {
		t.Fatalf("the doctor reads %q", got)
	}
	if res, body := nl.PostForm("/s/send", url.Values{}); res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "(20)") {
		t.Fatalf("resend past the address's cap answered %d", res.StatusCode)
	}
	admin := testserver.MustUser(t, f.srv.DB, "adm", database.RoleAdmin, f.dept)
	if _, err := f.srv.App.Buckets.Revoke(t.Context(), admin, f.bucket.ID, "127.0.0.1", "patient asked"); err != nil {
		t.Fatal(err)
	}
	res, _ = doc.Get("/p/studies/" + id(f.studies[0].ID))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("after the access was revoked the doctor's click answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
}
