package patient_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// The patient viewer fits the viewport: at each size a phone, a
// tablet and a desktop have, the first image is wholly visible without
// scrolling, fitted (contain) to at least 90% of the largest box of its
// aspect ratio under the header; the controls are on the first screen;
// turning the phone refits it; axe-core finds nothing. One browser for all
// sizes. RADPASS_TEST_SHOTS=dir saves screenshots there.
func TestBrowserPatientViewerFits(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	ct := srv.MustImportSamples(t, d)
	ctx := context.Background()
	if _, err := srv.DB.ExecContext(ctx, `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, ct); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.ExecContext(ctx, `UPDATE studies SET report_status = 'final', report_text = 'No abnormality.', description = 'CT chest abdomen pelvis with contrast' WHERE id = ?`, ct); err != nil {
		t.Fatal(err)
	}
	srv.MustCopyInstances(t, ct, 4)
	tall := srv.MustMoveTallSeries(t, ct)
	_, n := srv.MustBucket(t, u, []*database.Study{{ID: ct}}, testserver.BucketSpec{Scope: database.ScopeImagesReport})

	p := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 240*time.Second)}
	p.Emulate(testbrowser.ViewerViewports[1])
	p.Do("sign in", chromedp.Navigate(srv.URL+"/?ref="+n.Canonical()+"&lang=en"),
		chromedp.WaitVisible(chromedp.CSS("#dob-day")),
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
	studyURL := p.Eval(`location.href`)
	checkViewerFits(t, p, studyURL, fmt.Sprintf("%s?series=%d", studyURL, tall))
}

// checkViewerFits opens studyURL at every viewport and checks the fit, the
// controls and the notice, and the fit of the tall picture at tallURL; then
// it turns a phone, zooms, and checks the smallest phone in the other
// languages.
func checkViewerFits(t *testing.T, p testbrowser.Page, studyURL, tallURL string) {
	shots := os.Getenv("RADPASS_TEST_SHOTS")
	for _, v := range testbrowser.ViewerViewports {
		p.Emulate(v)
		p.Do("open the study at "+v.Name, chromedp.Navigate(studyURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
		checkScreen(t, p, v.Name)
		if v.Width == 360 && v.Height == 740 || v.Width == 1280 {
			p.Axe("viewer at " + v.Name)
		}
		if shots != "" {
			p.Screenshot(filepath.Join(shots, t.Name()+"-"+strings.ReplaceAll(v.Name, " ", "-")+".png"))
		}
		p.Do("open the radiograph at "+v.Name, chromedp.Navigate(tallURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
		p.WaitTrue("the radiograph", `document.querySelector('[data-testid="image"]').naturalHeight > document.querySelector('[data-testid="image"]').naturalWidth`)
		p.CheckFit(v.Name+", radiograph", p.ViewerFit())
	}
	// Turn the phone: the same page refits.
	p.Emulate(testbrowser.ViewerViewports[1])
	p.Do("reopen at 360×740", chromedp.Navigate(studyURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
	before := p.ViewerFit()
	p.CheckFit("before turning", before)
	p.Emulate(testbrowser.Viewport{Name: "phone turned 740×360", Width: 740, Height: 360, Mobile: true})
	after := p.ViewerFit()
	p.CheckFit("turned", after)
	if after.Box == before.Box {
		t.Errorf("the image did not refit when turned: %s", after)
	}
	p.Axe("viewer turned")

	// Zoom, by thumb, upright: the button doubles the picture inside its box
	// and says so; a second press fits it again.
	p.Emulate(testbrowser.ViewerViewports[1])
	p.Eval(`window.scrollTo(0, 0), ''`)
	p.Do("zoom in", chromedp.Click(chromedp.CSS(`[data-testid="zoom"]`)))
	p.WaitTrue("zoomed", `document.querySelector('[data-testid="zoom"]').getAttribute('aria-pressed') === 'true' && document.querySelector('[data-swipe]').classList.contains('zoomed')`)
	if w := p.Number(`document.querySelector('[data-testid="image"]').getBoundingClientRect().width / document.querySelector('[data-swipe]').getBoundingClientRect().width`); w < 1.9 {
		t.Errorf("zoomed picture is %.2f× its box", w)
	}
	p.Do("zoom out", chromedp.Click(chromedp.CSS(`[data-testid="zoom"]`)))
	p.WaitTrue("fitted again", `document.querySelector('[data-testid="zoom"]').getAttribute('aria-pressed') === 'false'`)
	p.CheckFit("zoomed out", p.ViewerFit())

	// The other languages' words fit the smallest phone too.
	p.Emulate(testbrowser.ViewerViewports[0])
	for _, lang := range []string{"nl", "fr", "de"} {
		// SetValue fires change, which submits the form (data-autosubmit),
		// as a user's choice does: a Submit after it raced the navigation.
		p.Do("switch to "+lang, chromedp.SetValue(chromedp.CSS("#lang-select"), lang))
		p.WaitTrue("the viewer in "+lang, `document.documentElement?.lang === '`+lang+`' && !!document.querySelector('[data-testid="image"]')`)
		checkScreen(t, p, testbrowser.ViewerViewports[0].Name+" in "+lang)
	}
}

// checkScreen checks the viewer as opened: the image fitted, previous/next,
// the window presets, zoom and the slider on the first screen, nothing
// sideways, and the notice one line with its Hide beside it.
func checkScreen(t *testing.T, p testbrowser.Page, name string) {
	t.Helper()
	p.CheckFit(name, p.ViewerFit())
	for _, sel := range []string{`[data-viewer-next]`, `[data-testid="window"]`, `[data-testid="zoom"]`, `[data-testid="slider"]`} {
		if got := p.Eval(`(function(){var r=document.querySelector('` + sel + `').getBoundingClientRect();return r.width > 0 && r.top >= 0 && r.bottom <= innerHeight && r.right <= innerWidth ? 'ok' : JSON.stringify(r)})()`); got != "ok" {
			t.Errorf("%s: %s not on the first screen: %s", name, sel, got)
		}
	}
	if over := p.Eval(`String(document.documentElement.scrollWidth > innerWidth)`); over != "false" {
		t.Errorf("%s: the page scrolls sideways", name)
	}
	if n := p.Number(`document.querySelector('[data-testid="notice"] .notice-short').getClientRects().length`); n != 1 {
		t.Errorf("%s: the notice takes %.0f lines", name, n)
	}
	if top, hide := p.Number(`document.querySelector('[data-testid="notice"] .notice-short').getBoundingClientRect().top`),
		p.Number(`document.querySelector('[data-testid="notice"] [data-dismiss]').getBoundingClientRect().top`); hide-top > 20 {
		t.Errorf("%s: the notice's Hide is under its text", name)
	}
}
