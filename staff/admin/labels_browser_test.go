package admin_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A department admin in real Chromium creates a label on the labels page,
// adds it to a study in the study list (htmx), sees it there, filters on it
// ("Contains labels") and removes it again.
func TestBrowserAdminLabelOnStudy(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "adam", database.RoleAdmin, d)
	s1 := testserver.MustPatientStudy(t, srv.DB, d, "P-1", "Peeters", "Ann", nil)
	s2 := testserver.MustPatientStudy(t, srv.DB, d, "P-2", "Janssens", "Bart", nil)
	ctx := testbrowser.New(t, 120*time.Second)
	p := testbrowser.Page{TB: t, Ctx: ctx}
	p.SignIn(srv.URL, "adam", testserver.Password)

	p.Do("open the labels page", chromedp.Navigate(srv.URL+"/staff/labels"), chromedp.WaitVisible(chromedp.CSS(`form[data-testid="label-create"] #name`)))
	p.Do("create a label",
		chromedp.SendKeys(chromedp.CSS(`form[data-testid="label-create"] #name`), "Second opinion"),
		chromedp.SetValue(chromedp.CSS(`form[data-testid="label-create"] #color`), "#8e44ad"),
		chromedp.Click(chromedp.CSS(`[data-testid="label-create-submit"]`)),
	)
	p.WaitTrue("the new label in the list", `[...document.querySelectorAll('[data-testid="labels"] .label-chip')].some(e => e.textContent.trim() === 'Second opinion')`)

	p.Do("open the study list", chromedp.Navigate(srv.URL+"/staff/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="label-tools"]`)))
	if got := p.Eval(`document.querySelector('#add-label option:checked').textContent`); got != "Second opinion" {
		t.Fatalf("label tools offer %q", got)
	}
	row := `tr[data-study="` + strconv.FormatInt(s1.ID, 10) + `"]`
	p.Do("add the label to Peeters' study", chromedp.Click(chromedp.CSS(row+` [data-testid="label-add"]`)))
	p.WaitTrue("the label on the row", `(document.querySelector('`+row+` .label-chip') || {}).textContent === 'Second opinion×'`)
	// Painted from data-color once htmx has settled the swap (CSP: no style attributes).
	p.WaitTrue("the chip in the label's colour", `document.querySelector('`+row+` .label-chip').style.borderColor === 'rgb(142, 68, 173)'`)
	other := `tr[data-study="` + strconv.FormatInt(s2.ID, 10) + `"]`
	if n := p.Eval(`String(document.querySelectorAll('` + other + ` .label-chip').length)`); n != "0" {
		t.Fatalf("the other study shows %s labels", n)
	}
	// A reload shows it too (stored, not only swapped in).
	p.Do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(row)))
	if got := p.Text(row + ` .label-chip`); got != "Second opinion×" {
		t.Fatalf("after reload the row shows %q", got)
	}
	// "Contains labels" keeps Peeters' study only.
	p.Eval(`(() => { const s = document.getElementById('label'); s.selectedIndex = 1; s.dispatchEvent(new Event('change', {bubbles: true})); return 'ok' })()`)
	p.WaitTrue("the filtered list", `document.querySelectorAll('#results tbody tr').length === 1 && !!document.querySelector('`+row+`')`)
	p.Do("remove the label", chromedp.Click(chromedp.CSS(row+` [data-testid="label-remove"]`)))
	p.WaitTrue("the label gone", `document.querySelectorAll('`+row+` .label-chip').length === 0`)
}
