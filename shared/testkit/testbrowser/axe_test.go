package testbrowser_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/testkit/testbrowser"
)

// The accessibility check really finds violations: an image without alt
// text and an input without a label.
func TestBrowserAxeFindsViolations(t *testing.T) {
	ctx := testbrowser.New(t, 60*time.Second)
	p := testbrowser.Page{TB: t, Ctx: ctx}
	page := `<!doctype html><html lang="en"><head><title>t</title></head><body><main><img src="x.png"><input id="q"></main></body></html>`
	p.Do("open", chromedp.Navigate("data:text/html,"+url.PathEscape(page)))
	got := strings.Join(p.AxeViolations("bad page"), "\n")
	for _, want := range []string{"image-alt", "label"} {
		if !strings.Contains(got, want) {
			t.Errorf("axe did not report %s:\n%s", want, got)
		}
	}
}
