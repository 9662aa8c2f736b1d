package patient_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// On a 360 px phone the patient opens "Activity" from the list of studies,
// pages to older activity (htmx) and turns the new-device alert on;
// axe-core finds no WCAG 2.2 AA violation in any of these states, and the
// page never scrolls sideways.
func TestBrowserActivityPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	if err := informed.SaveSettings(ctx, f.srv.DB, &informed.Settings{BucketID: b.ID, ContactChannel: "sms", Contact: "+32470123456"}); err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if err := audit.Patient(&b.ID, "203.0.113.9").Record(ctx, f.srv.DB, audit.SeriesView, &f.dept.ID,
			map[string]any{"study_id": f.studies[0].ID, "series_id": i}); err != nil {
			t.Fatal(err)
		}
	}
	bctx := testbrowser.New(t, 120*time.Second)
	p := testbrowser.Page{TB: t, Ctx: bctx}
	phone(p)
	p.Do("sign in",
		chromedp.Navigate(f.srv.URL+"/?ref="+n.Canonical()+"&lang=en"),
		chromedp.WaitVisible(chromedp.CSS("#dob-day")),
		chromedp.SendKeys(chromedp.CSS("#dob-day"), birth.Format("2")),
		chromedp.SetValue(chromedp.CSS("#dob-month"), birth.Format("1")),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), birth.Format("2006")),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="patient-studies"]`)))
	p.Do("open the activity", chromedp.Click(chromedp.CSS(`[data-testid="activity-link"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="activity-list"]`)))
	p.Axe("activity")
	if over := p.Eval(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`); over != "false" {
		t.Fatal("the activity page scrolls sideways at 360 px")
	}
	p.Do("older activity", chromedp.Click(chromedp.CSS(`[data-testid="activity-more"]`)))
	p.WaitTrue("older rows appended", `document.querySelectorAll('[data-testid="activity-row"]').length === 26 && !document.querySelector('[data-testid="activity-more"]')`)
	p.Axe("activity, older rows")
	if got := p.Text(`[data-testid="activity-list"]`); strings.Contains(got, "203.0.113.9") || strings.Contains(got, "127.0.0.1") {
		t.Fatal("an address is shown")
	}
	p.Do("turn the alert on", chromedp.Click(chromedp.CSS(`[data-testid="alert-toggle"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-done"]`)))
	p.Axe("alert on")
	st, err := informed.BucketSettings(ctx, f.srv.DB, b.ID)
	if err != nil || !st.DeviceAlert {
		t.Fatalf("alert not stored: %+v %v", st, err)
	}
}
