package studylist_test

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

// The staff study page is the same viewer as the patient's: at
// each size a phone, a tablet and a desktop have, the first image is wholly
// visible without scrolling under the staff header, fitted (contain) to at
// least 90% of the largest box of its aspect ratio; the study facts are
// folded above it and open; turning the phone refits it; axe-core finds
// nothing. One browser for all sizes. RADPASS_TEST_SHOTS=dir saves
// screenshots there.
func TestBrowserStaffViewerFits(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "vera", database.RoleStaff, d)
	t.Parallel()
	ct := dicomFixture(t, srv, d)
	if _, err := srv.DB.ExecContext(context.Background(), `UPDATE studies SET report_status = 'final', report_text = 'No abnormality.', description = 'CT chest abdomen pelvis with contrast' WHERE id = ?`, ct); err != nil {
		t.Fatal(err)
	}
	srv.MustCopyInstances(t, ct, 4)
	tall := srv.MustMoveTallSeries(t, ct)
	p := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 240*time.Second)}
	p.SignIn(srv.URL, "vera", testserver.Password)
	studyURL := fmt.Sprintf("%s/staff/studies/%d", srv.URL, ct)
	shots := os.Getenv("RADPASS_TEST_SHOTS")
	for _, v := range testbrowser.ViewerViewports {
		p.Emulate(v)
		p.Do("open the study at "+v.Name, chromedp.Navigate(studyURL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
		p.CheckFit(v.Name, p.ViewerFit())
		for _, sel := range []string{`[data-viewer-next]`, `[data-testid="window"]`, `[data-testid="zoom"]`, `[data-testid="slider"]`} {
			if got := p.Eval(`(function(){var r=document.querySelector('` + sel + `').getBoundingClientRect();return r.width > 0 && r.top >= 0 && r.bottom <= innerHeight && r.right <= innerWidth ? 'ok' : JSON.stringify(r)})()`); got != "ok" {
				t.Errorf("%s: %s not on the first screen: %s", v.Name, sel, got)
			}
		}
		if over := p.Eval(`String(document.documentElement.scrollWidth > innerWidth)`); over != "false" {
			t.Errorf("%s: the page scrolls sideways", v.Name)
		}
		if v.Width == 360 && v.Height == 740 || v.Width == 1280 {
			p.Axe("viewer at " + v.Name)
		}
		if shots != "" {
			p.Screenshot(filepath.Join(shots, t.Name()+"-"+strings.ReplaceAll(v.Name, " ", "-")+".png"))
		}
		p.Do("open the radiograph at "+v.Name, chromedp.Navigate(fmt.Sprintf("%s?series=%d", studyURL, tall)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
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
	if shots != "" {
		p.Screenshot(filepath.Join(shots, t.Name()+"-turned.png"))
	}

	// Back upright, the facts are folded above the viewer and open on a
	// click.
	p.Emulate(testbrowser.ViewerViewports[1])
	if open := p.Eval(`String(document.querySelector('[data-testid="facts"]').open)`); open != "false" {
		t.Error("the study facts are not folded")
	}
	p.Do("open the facts", chromedp.Click(chromedp.CSS(`[data-testid="facts"] > summary`)))
	p.WaitTrue("facts shown", `document.querySelector('[data-testid="patient-id"]').getBoundingClientRect().height > 0`)
	if above := p.Eval(`String(document.querySelector('[data-testid="facts"]').getBoundingClientRect().top < document.querySelector('[data-testid="image"]').getBoundingClientRect().top)`); above != "true" {
		t.Error("the facts are not above the image")
	}
	p.Axe("facts open")
}
