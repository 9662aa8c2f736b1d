package patient_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testsmtp"
)

const (
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
	uaWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

// signInAs signs a fresh browser with User-Agent ua in to number ref (a
// date-of-birth access).
func signInAs(t *testing.T, srv *testserver.Server, ref, ua string) *testserver.Client {
	t.Helper()
	c := srv.Client(t)
	c.Get("/", "User-Agent", ua)
	if res, body := c.PostForm("/p/signin", signInForm(ref, birth), "User-Agent", ua); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d\n%s", res.StatusCode, body)
	}
	return c
}

// The activity of an access lists its sign-ins with a coarse device and
// what was seen, newest first, never an address, never another access's
// events; it pages by twenty, the next page through htmx.
func TestActivityListsSignInsAndViews(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	b2, n2 := f.srv.MustBucket(t, f.staff, f.studies[:1], testserver.BucketSpec{})
	c := signInAs(t, f.srv, n.Canonical(), uaIPhone)
	if res, _ := c.Get("/p/studies/"+strconv.FormatInt(f.studies[0].ID, 10), "User-Agent", uaIPhone); res.StatusCode != http.StatusOK {
		t.Fatalf("study page %d", res.StatusCode)
	}
	signInAs(t, f.srv, n2.Canonical(), uaAndroid) // another access: never listed here
	doc := c.GetDoc("/p/activity", http.StatusOK)
	rows := doc.Find("[data-testid=activity-row]")
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want the study view and the sign-in:\n%s", rows.Length(), rows.Text())
	}
	if got := rows.Eq(0).Text(); !strings.Contains(got, "Study opened") || !strings.Contains(got, "You") {
		t.Fatalf("newest row %q", got)
	}
	if got := rows.Eq(1).Text(); !strings.Contains(got, "Signed in") || !strings.Contains(got, "Safari on iPhone/iPad (iOS) (phone)") {
		t.Fatalf("sign-in row %q", got)
	}
	html, _ := doc.Html()
	if strings.Contains(html, "127.0.0.1") || strings.Contains(html, "Android") {
		t.Fatal("the activity shows an address or another access's device")
	}

	// 25 more views from an address the patient must never see.
	ctx := context.Background()
	var b1 int64
	if err := f.srv.DB.NewRaw(`SELECT bucket_id FROM bucket_studies WHERE study_id = ? AND bucket_id <> ?`, f.studies[1].ID, b2.ID).Scan(ctx, &b1); err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if err := audit.Patient(&b1, "203.0.113.9").Record(ctx, f.srv.DB, audit.SeriesView, &f.dept.ID,
			map[string]any{"study_id": f.studies[0].ID, "series_id": i}); err != nil {
			t.Fatal(err)
		}
	}
	doc = c.GetDoc("/p/activity", http.StatusOK)
	if n := doc.Find("[data-testid=activity-row]").Length(); n != informed.ActivityPage {
		t.Fatalf("first page has %d rows", n)
	}
	more, ok := doc.Find("[data-testid=activity-more]").Attr("hx-get")
	if !ok {
		t.Fatal("no link to the older activity")
	}
	res, body := c.Get(more, "HX-Request", "true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("older page %d", res.StatusCode)
	}
	page2 := testserver.Doc(t, body)
	if n := page2.Find("[data-testid=activity-row]").Length(); n != 27-informed.ActivityPage {
		t.Fatalf("second page has %d rows, want %d", n, 27-informed.ActivityPage)
	}
	if page2.Find("[data-testid=activity-more]").Length() != 0 || strings.Contains(body, "<html") {
		t.Fatal("the last page offers more, or htmx got a whole page")
	}
	if strings.Contains(body, "203.0.113.9") {
		t.Fatal("the activity shows an address")
	}
}

// The new-device alert: one message for each kind of device the access
// was not opened from before (the first included), none for one seen
// before, through a sign-in with a code too; the patient turns it off and
// the next new device is quiet.
func TestNewDeviceAlert(t *testing.T) {
	mail := testsmtp.Start(t)
	srv := testserver.New(t, func(c *config.Config) {
		c.Notify.SMTPHost, c.Notify.SMTPPort, c.Notify.SMTPTLS, c.Notify.SMTPFrom = mail.Host, mail.Port, "none", "RadPass <noreply@radpass.test>"
	})
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	bd := birth
	st := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	ctx := context.Background()
	b, n := srv.MustBucket(t, u, []*database.Study{st}, testserver.BucketSpec{})
	if err := informed.SaveSettings(ctx, srv.DB, &informed.Settings{BucketID: b.ID, DeviceAlert: true, ContactChannel: "email", Contact: "zoe@example.org"}); err != nil {
		t.Fatal(err)
	}
	drain := func() {
		t.Helper()
		if _, err := srv.App.Informed.Queue().Drain(ctx); err != nil {
			t.Fatal(err)
		}
	}
	alerts := func() int { return len(mail.To(t, "zoe@example.org")) }
	c := signInAs(t, srv, n.Canonical(), uaIPhone)
	drain()
	msgs := mail.To(t, "zoe@example.org")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Safari on iPhone/iPad (iOS) (phone)") || !strings.Contains(msgs[0].Text, "Radiology NORTH") {
		t.Fatalf("first device: %d messages %+v", len(msgs), msgs)
	}
	signInAs(t, srv, n.Canonical(), uaIPhone)
	drain()
	if got := alerts(); got != 1 {
		t.Fatalf("a device seen before alerted: %d messages", got)
	}
	signInAs(t, srv, n.Canonical(), uaAndroid)
	signInAs(t, srv, n.Canonical(), uaAndroid)
	drain()
	if got := alerts(); got != 2 {
		t.Fatalf("after a new device twice: %d messages, want 2", got)
	}

	// The patient sees the alert is on and turns it off (audited).
	doc := c.GetDoc("/p/activity", http.StatusOK)
	if got := doc.Find("[data-testid=alert-state]").Text(); !strings.Contains(got, "on") {
		t.Fatalf("alert state %q", got)
	}
	if strings.Contains(doc.Text(), "zoe@example.org") {
		t.Fatal("the contact is shown unmasked")
	}
	if res, _ := c.PostForm("/p/activity/alert", url.Values{"alert": {"0"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("turning off answered %d", res.StatusCode)
	}
	var audited int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ? AND bucket_id = ? AND details->>'on' = 'false'`,
		informed.ActionAlertSet, b.ID).Scan(ctx, &audited); err != nil || audited != 1 {
		t.Fatalf("%d audit rows %v", audited, err)
	}
	signInAs(t, srv, n.Canonical(), uaWindows)
	drain()
	if got := alerts(); got != 2 {
		t.Fatalf("alert off, yet %d messages", got)
	}

	// A sign-in with a code (an e-mail access) records its device as well.
	be, ne := srv.MustBucket(t, u, []*database.Study{st}, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "otp@example.org"})
	if err := informed.SaveSettings(ctx, srv.DB, &informed.Settings{BucketID: be.ID, DeviceAlert: true}); err != nil {
		t.Fatal(err)
	}
	oc := srv.Client(t)
	oc.Get("/")
	oc.PostForm("/p/signin", signInForm(ne.Canonical(), birth), "User-Agent", uaAndroid)
	var code string
	for deadline := time.Now().Add(10 * time.Second); code == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := mail.To(t, "otp@example.org"); len(m) == 1 {
			code = sixDigits.FindString(m[0].Text)
		}
	}
	if res, _ := oc.PostForm("/p/code", url.Values{"code": {code}}, "User-Agent", uaAndroid); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code answered %d", res.StatusCode)
	}
	drain()
	m := mail.To(t, "otp@example.org")
	if len(m) != 2 || !strings.Contains(m[0].Text+m[1].Text, "Chrome on Android (phone)") {
		t.Fatalf("after a code sign-in: %d messages", len(m))
	}
	if got := oc.GetDoc("/p/activity", http.StatusOK).Find("[data-testid=activity-row]").First().Text(); !strings.Contains(got, "Chrome on Android (phone)") {
		t.Fatalf("code sign-in row %q", got)
	}
}

// A doctor's use of a share (audit actor kind "share", built by the share
// feature) shows as "a doctor you shared with", named by the share's
// recipient when the shares table has one. The schema of that feature is
// stood in for here: its own migration adds the actor kind and the table.
func TestActivityShowsShares(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	ctx := context.Background()
	var shareID int64
	if err := f.srv.DB.NewRaw(`INSERT INTO shares (bucket_id, token_hash, channel, destination, valid_until, language)
		VALUES (?, sha256('activity-test'), 'email', 'dr.peeters@example.org', current_date + 7, 'en') RETURNING id`, b.ID).Scan(ctx, &shareID); err != nil {
		t.Fatal(err)
	}
	share := audit.Share(b.ID, shareID, "198.51.100.7")
	for _, a := range []string{audit.ShareOpen, audit.ReportView} {
		if err := share.Record(ctx, f.srv.DB, a, &f.dept.ID, map[string]any{"study_id": f.studies[0].ID}); err != nil {
			t.Fatal(err)
		}
	}
	fail := share.Event(audit.ShareCodeFail, &f.dept.ID, nil)
	fail.Outcome = "wrong_code"
	if err := audit.Record(ctx, f.srv.DB, fail); err != nil {
		t.Fatal(err)
	}
	c := signInAs(t, f.srv, n.Canonical(), uaWindows)
	rows := c.GetDoc("/p/activity", http.StatusOK).Find("[data-testid=activity-row]")
	if rows.Length() != 3 {
		t.Fatalf("%d rows, want the patient's sign-in and the share's two:\n%s", rows.Length(), rows.Text())
	}
	for i, want := range []string{"Report read", "Signed in"} {
		got := rows.Eq(i + 1).Text()
		if !strings.Contains(got, want) || !strings.Contains(got, "A doctor you shared with (dr.peeters@example.org)") {
			t.Fatalf("share row %d: %q", i, got)
		}
	}
	if strings.Contains(rows.Text(), "198.51.100.7") {
		t.Fatal("the doctor's address is shown")
	}
}
