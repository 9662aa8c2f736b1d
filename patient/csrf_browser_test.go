package patient_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A sign-in answered in place (htmx swaps the viewer into the start page)
// binds a new CSRF token to the new patient session: static/app.js puts it
// into the forms outside the swapped part, so the header's language menu
// still works, and so does signing out.
func TestBrowserFormsWorkAfterInPlaceSignIn(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	ct := srv.MustImportSamples(t, d)
	if _, err := srv.DB.ExecContext(context.Background(), `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, ct); err != nil {
		t.Fatal(err)
	}
	_, n := srv.MustBucket(t, u, []*database.Study{{ID: ct}}, testserver.BucketSpec{})

	p := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 90*time.Second)}
	p.Do("open the QR link", chromedp.Navigate(srv.URL+"/?ref="+n.Canonical()), chromedp.WaitVisible(chromedp.CSS("#dob-day")))
	before := p.Eval(`document.querySelector('.langswitch input[name=_csrf]').value`)
	p.Do("sign in",
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`))) // one study: the viewer, in place
	p.WaitTrue("the header's form got the new token", `document.querySelector('.langswitch input[name=_csrf]').value !== `+jsString(before))
	p.WaitTrue("hx-headers got it too", `JSON.parse(document.body.getAttribute('hx-headers'))['X-Csrf-Token'] === document.querySelector('.langswitch input[name=_csrf]').value`)
	// SetValue fires change, which submits the form (data-autosubmit).
	p.Do("switch to Dutch", chromedp.SetValue(chromedp.CSS("#lang-select"), "nl"))
	// Refused, it would be a 403 page in English.
	p.WaitTrue("the page is in Dutch", `document.documentElement?.lang === 'nl' && !!document.querySelector('#lang-select')`)
	p.Do("sign out from the list", chromedp.Navigate(srv.URL+"/p/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="patient-studies"]`)),
		chromedp.Submit(chromedp.CSS(`form[action="/p/signout"]`)), chromedp.WaitVisible(chromedp.CSS("#dob-day")))
}

func jsString(s string) string {
	b := []byte{'"'}
	for _, r := range s {
		if r == '"' || r == '\\' {
			b = append(b, '\\')
		}
		b = append(b, string(r)...)
	}
	return string(append(b, '"'))
}
