package patient_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
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
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	ct := srv.MustImportSamples(t, d)
	ctx := context.Background()
	if _, err := srv.DB.ExecContext(ctx, `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, ct); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.ExecContext(ctx, `UPDATE studies SET report_status = 'final', report_text = 'No abnormality.' WHERE id = ?`, ct); err != nil {
		t.Fatal(err)
	}
	study := &database.Study{ID: ct}
	_, n := srv.MustBucket(t, u, []*database.Study{study}, testserver.BucketSpec{Scope: database.ScopeImagesReport})

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

// An e-mail bucket on a phone: the code is read from the dev outbox page
// (as a new user of the make run demo would), typed, the images open and
// the DICOM download answers a ZIP. A second bucket is locked out by five
// wrong codes. axe-core checks the code page and its error state.
func TestBrowserPatientEmailCodeAndLockout(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	ct := srv.MustImportSamples(t, d)
	ctx := context.Background()
	if _, err := srv.DB.ExecContext(ctx, `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, ct); err != nil {
		t.Fatal(err)
	}
	_, n := srv.MustBucket(t, u, []*database.Study{{ID: ct}}, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "zoe@example.org"})
	_, locked := srv.MustBucket(t, u, []*database.Study{{ID: ct}}, testserver.BucketSpec{Verification: database.VerifyEmail, Destination: "max@example.org"})

	bctx := testbrowser.New(t, 180*time.Second)
	p := testbrowser.Page{TB: t, Ctx: bctx}
	phone(p)
	signIn := func(ref string) {
		p.Do("sign in with the birth date",
			chromedp.Navigate(srv.URL+"/?ref="+ref),
			chromedp.WaitVisible(chromedp.CSS("#dob-day")),
			chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
			chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
			chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
			chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="code"]`)))
	}
	signIn(n.Canonical())
	p.Axe("code page")
	// The dev outbox, in another tab as a tester would.
	tab, cancel := chromedp.NewContext(bctx)
	defer cancel()
	q := testbrowser.Page{TB: t, Ctx: tab}
	q.Do("open the dev outbox", chromedp.Navigate(srv.URL+"/dev/outbox"), chromedp.WaitVisible(chromedp.CSS(`[data-to="zoe@example.org"] [data-testid="outbox-text"]`)))
	code := sixDigits.FindString(q.Text(`[data-to="zoe@example.org"] [data-testid="outbox-text"]`))
	if code == "" {
		t.Fatal("no code in the dev outbox")
	}
	p.Do("type the code", chromedp.SendKeys(chromedp.CSS(`[data-testid="code"]`), code), chromedp.Click(chromedp.CSS(`[data-testid="code-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
	p.WaitTrue("image painted", `document.querySelector('[data-testid="image"]').complete && document.querySelector('[data-testid="image"]').naturalWidth > 0`)
	// The download link, fetched by the page itself (with its cookie).
	if got := p.Eval(`(function(){var x=new XMLHttpRequest();x.open('GET',document.querySelector('[data-testid="all-studies"]')?'/p/download':'',false);x.send();return x.status+' '+x.getResponseHeader('content-type')})()`); got != "200 application/zip" {
		t.Fatalf("download answered %q", got)
	}

	signIn(locked.Canonical())
	for i := 0; i < 5; i++ {
		p.Do("a wrong code", chromedp.SetValue(chromedp.CSS(`[data-testid="code"]`), "000000"), chromedp.Click(chromedp.CSS(`[data-testid="code-submit"]`)))
		if i < 4 {
			p.WaitTrue("error announced", `(document.querySelector('[data-testid="code-error"]')||{}).textContent && document.querySelector('[data-testid="code-error"]').textContent.includes(': `+strconv.Itoa(4-i)+`')`)
			if i == 0 {
				p.Axe("code error")
			}
		}
	}
	p.WaitTrue("blocked page", `!!document.querySelector('[data-testid="closed"]')`)
	if got := p.Text(`[data-testid="closed-reason"]`); !strings.Contains(got, "blocked") {
		t.Fatalf("lockout page says %q", got)
	}
	p.Axe("blocked page")
}
