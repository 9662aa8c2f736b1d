package patient_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/testbrowser"
	"github.com/radpass/radpass/shared/testserver"
)

// phone puts the tab at a 360 px wide phone viewport with touch.
func phone(p testbrowser.Page) {
	p.Do("phone viewport", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
}

// A patient scans the QR code on a phone, signs in with the birth date,
// browses the images and reads the report; axe-core finds no WCAG 2.2 AA
// violation in any state on the way.
func TestBrowserPatientWithBirthDate(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", store.RoleStaff, d)
	ct := srv.MustImportSamples(t, d)
	ctx := context.Background()
	if _, err := srv.DB.ExecContext(ctx, `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, ct); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.ExecContext(ctx, `UPDATE studies SET report_status = 'final', report_text = 'No abnormality.' WHERE id = ?`, ct); err != nil {
		t.Fatal(err)
	}
	study := &store.Study{ID: ct}
	_, n := srv.MustBucket(t, u, []*store.Study{study}, testserver.BucketSpec{Scope: store.ScopeImagesReport})

	bctx := testbrowser.New(t, 120*time.Second)
	p := testbrowser.Page{TB: t, Ctx: bctx}
	phone(p)
	p.Do("open the QR link", chromedp.Navigate(srv.URL+"/?ref="+n.Canonical()+"&lang=en"), chromedp.WaitVisible(chromedp.CSS("#dob-day")))
	p.Axe("start page")
	if got := p.Eval(`document.getElementById('ref').value`); got != n.Canonical() {
		t.Fatalf("QR link prefilled %q", got)
	}
	// A wrong birth date first: the error is announced and the page stays accessible.
	p.Do("wrong birth date",
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "10"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-error"]`)))
	p.Axe("sign-in error")
	p.Do("right birth date",
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`))) // one study: straight to the viewer
	p.Do("the list of studies", chromedp.Click(chromedp.CSS(`[data-testid="all-studies"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="patient-studies"]`)))
	p.Axe("study list")
	p.Do("open the study", chromedp.Click(chromedp.CSS(`[data-testid="study-link"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
	p.WaitTrue("image painted", `document.querySelector('[data-testid="image"]').complete && document.querySelector('[data-testid="image"]').naturalWidth > 0`)
	if w := p.Eval(`String(document.querySelector('[data-testid="image"]').getBoundingClientRect().width)`); w == "0" {
		t.Fatal("image has no width on the phone")
	}
	if over := p.Eval(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`); over != "false" {
		t.Fatal("the viewer page scrolls sideways at 360 px")
	}
	p.Axe("viewer")
	p.Do("dismiss the notice", chromedp.Click(chromedp.CSS(`[data-dismiss]`)))
	p.WaitTrue("notice hidden", `document.querySelector('[data-testid="notice"]').hidden`)
	p.Do("read the report", chromedp.Click(chromedp.CSS(`[data-testid="report-link"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="report-text"]`)))
	if got := p.Text(`[data-testid="report-text"]`); got != "No abnormality." {
		t.Fatalf("report text %q", got)
	}
	p.Axe("report")
	var views int
	if err := srv.DB.NewRaw(`SELECT count(*) FROM audit_events WHERE actor_kind = 'patient' AND action IN ('study.view','series.view','report.view')`).Scan(ctx, &views); err != nil || views < 3 {
		t.Fatalf("%d patient view events (%v)", views, err)
	}

}
