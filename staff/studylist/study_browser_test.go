package studylist_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Real Chromium on the study page: the rendered image and thumbnail load
// under the CSP, the arrow key (static/viewer.js) moves to the next frame via
// htmx, and the window menu re-renders with the chosen preset.
func TestBrowserStudyViewer(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "vera", database.RoleStaff, d)
	t.Parallel()
	ct := dicomFixture(t, srv, d)
	ctx := testbrowser.New(t, 120*time.Second)
	p := testbrowser.Page{TB: t, Ctx: ctx}
	run, eval, waitTrue := p.Do, p.Eval, p.WaitTrue
	p.SignIn(srv.URL, "vera", testserver.Password)
	run("open the study", chromedp.Navigate(fmt.Sprintf("%s/staff/studies/%d", srv.URL, ct)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="image"]`)))
	waitTrue("image loads", `document.querySelector('[data-testid="image"]').complete && document.querySelector('[data-testid="image"]').naturalWidth === 512`)
	waitTrue("thumbnail loads", `document.querySelector('[data-testid="thumb"]').naturalWidth === 128`)

	run("next frame with the arrow key", chromedp.KeyEvent(kb.ArrowDown))
	waitTrue("frame 2 shown", `(document.querySelector('[data-testid="frame"]')||{}).textContent.includes('2 of 2')`)
	if loc := eval("location.search"); !strings.Contains(loc, "f=1") {
		t.Fatalf("URL not pushed: %s", loc)
	}
	waitTrue("frame 2 image loads", `document.querySelector('[data-testid="image"]').src.includes('f=1') && document.querySelector('[data-testid="image"]').naturalWidth === 512`)

	run("pick the lung window", chromedp.SetValue(chromedp.CSS(`[data-testid="window"]`), "lung"))
	waitTrue("lung window rendered", `document.querySelector('[data-testid="image"]').src.includes('w=lung') && document.querySelector('[data-testid="image"]').complete`)
	if got := eval(`document.querySelector('[data-testid="image"]').naturalWidth + ''`); got != "512" {
		t.Fatalf("lung image width %s", got)
	}
}
