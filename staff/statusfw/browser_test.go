package statusfw_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Real Chromium: the service desk opens Status Forwarding, finds the blocked
// bucket first, opens the unlock form in its row (htmx), gives a reason and
// sees the row come back active with the counter reset.
func TestBrowserServiceDeskUnlocks(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	staff := testserver.MustUser(t, srv.DB, "nora", database.RoleStaff, d)
	testserver.MustUser(t, srv.DB, "desk", database.RoleServiceDesk, nil)
	t.Parallel()
	bd := birth
	st := testserver.MustPatientStudy(t, srv.DB, d, "PN-7", northFamily, "Ada", &bd)
	srv.MustBucket(t, staff, []*database.Study{st}, testserver.BucketSpec{})
	b, _ := srv.MustBucket(t, staff, []*database.Study{st}, testserver.BucketSpec{})
	srv.MustBucket(t, staff, []*database.Study{st}, testserver.BucketSpec{})
	if _, err := srv.DB.ExecContext(context.Background(), `UPDATE buckets SET state = 'blocked', failures = 5, blocked_at = now() WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	row := `#bucket-` + strconv.FormatInt(b.ID, 10)

	ctx := testbrowser.New(t, 120*time.Second)
	p := testbrowser.Page{TB: t, Ctx: ctx}
	p.SignIn(srv.URL, "desk", testserver.Password)
	p.Do("open Status Forwarding", chromedp.Click(`[data-testid="nav-status"]`), chromedp.WaitVisible(`[data-testid="buckets"]`))
	p.WaitTrue("blocked bucket first", `document.querySelector('tr[data-bucket]').id === '`+row[1:]+`' && document.querySelector('`+row+`').dataset.state === 'blocked'`)
	p.Axe("status forwarding")
	p.Eval(`(() => { const s = document.querySelector('[data-testid="filter-state"]'); s.value = 'blocked'; s.dispatchEvent(new Event('change', {bubbles: true})); return '' })()`)
	p.WaitTrue("filtered to the blocked bucket by htmx", `document.querySelectorAll('tr[data-bucket]').length === 1 && location.search.includes('state=blocked')`)
	p.Do("open the unlock form", chromedp.Click(row+` [data-testid="unlock"]`), chromedp.WaitVisible(row+` [data-testid="reason"]`))
	p.Do("give a reason and confirm",
		chromedp.SendKeys(row+` [data-testid="reason"]`, "patient called, identity checked"),
		chromedp.Click(row+` [data-testid="confirm"]`))
	p.WaitTrue("row re-rendered active", `(document.querySelector('`+row+`')||{dataset:{}}).dataset.state === 'active' && !!document.querySelector('`+row+` [data-testid="row-done"]')`)
	if got := p.Text(row + ` [data-col="failures"]`); got != "0" {
		t.Fatalf("failures shown %q after unlock", got)
	}
	if path := p.Eval("location.pathname"); path != "/staff/status" {
		t.Fatalf("the page moved to %s: the row should update in place", path)
	}
	var state string
	if err := srv.DB.NewRaw(`SELECT state FROM buckets WHERE id = ?`, b.ID).Scan(context.Background(), &state); err != nil || state != database.BucketActive {
		t.Fatalf("bucket state %q (%v)", state, err)
	}
}
