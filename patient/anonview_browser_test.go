package patient_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
)

// On a phone, an anonymized bucket's viewer opens on a left-out image: the
// translated tile is visible where the image would be, the page does not
// scroll sideways, and axe-core finds no WCAG 2.2 AA violation there or in
// the anonymized study list.
func TestBrowserAnonymizedLeftOutTile(t *testing.T) {
	f := newBurnFixture(t)
	bctx := testbrowser.New(t, 120*time.Second)
	p := testbrowser.Page{TB: t, Ctx: bctx}
	phone(p)
	p.Do("open the start page", chromedp.Navigate(f.srv.URL+"/?lang=nl"), chromedp.WaitVisible(chromedp.CSS("#dob-day")))
	p.Do("sign in",
		chromedp.SendKeys(chromedp.CSS("#ref"), f.anonRef),
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="left-out"]`))) // one study: straight to the viewer, series 1 is ct-yes
	lang := p.Eval(`document.documentElement.lang`)
	if got, want := p.Text(`[data-testid="left-out"]`), i18n.T(lang, "anonview.leftout"); got != want {
		t.Fatalf("tile says %q, want %q (%s)", got, want, lang)
	}
	if n := p.Eval(`String(document.querySelectorAll('[data-testid="image"]').length)`); n != "0" {
		t.Fatalf("%s images next to the tile", n)
	}
	if over := p.Eval(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`); over != "false" {
		t.Fatal("the viewer page scrolls sideways at 360 px")
	}
	p.Axe("anonymized viewer, left-out image")
	p.Do("the list of studies", chromedp.Click(chromedp.CSS(`[data-testid="all-studies"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="patient-studies"]`)))
	p.Axe("anonymized study list")
}
