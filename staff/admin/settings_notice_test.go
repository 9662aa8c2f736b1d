package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/staff/admin"
)

// The settings page counts this month's "result ready" messages of its own
// department by channel (not last month's, not the new-device alerts, not
// another department's), and stores the print default with an audit row.
func TestSettingsNoticeCountAndDefault(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	other := testserver.MustDepartment(t, srv.DB, "SOUTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	bd := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	st := testserver.MustPatientStudy(t, srv.DB, d, "P1", "Peeters", "Zoë", &bd)
	b, _ := srv.MustBucket(t, u, []*database.Study{st}, testserver.BucketSpec{})
	ctx := context.Background()
	now := time.Now()
	lastMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.Local).Add(-time.Hour)
	for i, r := range []struct {
		dept          int64
		kind, channel string
		at            time.Time
	}{
		{d.ID, "report", "sms", now}, {d.ID, "images", "sms", now}, {d.ID, "report", "email", now},
		{d.ID, "report", "email", lastMonth}, {d.ID, "device", "email", now}, {other.ID, "report", "sms", now},
	} {
		if _, err := srv.DB.NewRaw(`INSERT INTO notices_sent (bucket_id, department_id, event, kind, channel, sent_at) VALUES (?, ?, ?, ?, ?, ?)`,
			b.ID, r.dept, "e"+string(rune('a'+i)), r.kind, r.channel, r.at).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, c := srv.SignedIn(t, "nils", database.RoleAdmin, d)
	doc := c.GetDoc("/staff/settings", http.StatusOK)
	if got := doc.Find("[data-testid=notice-count]").Text(); !strings.Contains(got, "2 by SMS, 1 by e-mail") {
		t.Fatalf("count %q", got)
	}
	if _, on := doc.Find(`input[name=ready_notice_default]`).Attr("checked"); on {
		t.Fatal("default ticked before it was set")
	}
	form := validSettings()
	form.Set("extra", "1")
	form["verification"] = []string{"sms", "email", "dob"}
	form.Set("sms_prefixes", "32")
	form.Set("ready_notice_default", "1")
	if res, body := c.PostForm("/staff/settings", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save %d\n%s", res.StatusCode, body)
	}
	if on, err := informed.ReadyDefault(ctx, srv.DB, d.ID); err != nil || !on {
		t.Fatalf("default not stored (%v)", err)
	}
	var audited int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE action = ? AND details->>'ready_notice_default' = 'true'`,
		admin.AuditSettings).Scan(ctx, &audited); err != nil || audited != 1 {
		t.Fatalf("%d audit rows %v", audited, err)
	}
	if _, on := c.GetDoc("/staff/settings", http.StatusOK).Find(`input[name=ready_notice_default]`).Attr("checked"); !on {
		t.Fatal("default not ticked after saving")
	}
}
