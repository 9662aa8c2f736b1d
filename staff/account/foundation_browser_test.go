package account_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A real headless Chromium signs in, switches the language with the
// auto-submitting menu (static/app.js) and signs out again.
func TestBrowserSignInLanguageSignOut(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	ctx := testbrowser.New(t, 90*time.Second)

	p := testbrowser.Page{TB: t, Ctx: ctx}
	run, eval, text := p.Do, p.Eval, p.Text

	// The study list needs a session: the browser lands on the sign-in page.
	run("open the study list", chromedp.Navigate(srv.URL+"/staff/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	if loc := eval("location.pathname + location.search"); !strings.HasPrefix(loc, "/staff/signin?next=") {
		t.Fatalf("not sent to sign-in: %s", loc)
	}
	if got := eval("typeof htmx"); got != "object" {
		t.Fatalf("htmx did not load (CSP or path): typeof htmx = %s", got)
	}

	run("sign in", testbrowser.SignInSteps("ann", testserver.Password)...)
	if got := text(`[data-testid="department"]`); got != d.Name {
		t.Fatalf("header department %q, want %q", got, d.Name)
	}
	if got := text(`[data-testid="signout"]`); got != "Sign out" {
		t.Fatalf("sign-out button %q before switching", got)
	}
	// With JavaScript the Apply button is hidden: the menu submits itself.
	if got := eval(`getComputedStyle(document.querySelector('[data-testid="lang-apply"]')).display`); got != "none" {
		t.Fatalf("Apply button display %q with JavaScript on", got)
	}

	// Choose Nederlands as a user would: SetValue fires input and change, and
	// the change event submits the form (no button is clicked).
	run("switch to Dutch", chromedp.SetValue(chromedp.CSS("#lang-select"), "nl"))
	run("wait for the Dutch page", chromedp.WaitVisible(chromedp.CSS(`html[lang="nl"] [data-testid="signout"]`)))
	if got := text(`[data-testid="signout"]`); got != "Afmelden" {
		t.Fatalf("sign-out button %q after switching to Dutch", got)
	}
	if got := eval("location.pathname"); got != "/staff/" {
		t.Fatalf("after switching the browser is on %s", got)
	}
	var stored string
	if err := srv.DB.NewRaw(`SELECT language FROM users WHERE username = 'ann'`).Scan(ctx, &stored); err != nil || stored != "nl" {
		t.Fatalf("language stored on the user: %q (%v)", stored, err)
	}

	// The page holds at 360 px: nothing wider than the screen.
	run("narrow screen", chromedp.EmulateViewport(360, 740))
	if w := eval(`document.documentElement.scrollWidth + " of " + document.documentElement.clientWidth`); func() bool {
		var a, b int
		_, err := fmt.Sscanf(w, "%d of %d", &a, &b)
		return err != nil || a > b || b < 330
	}() {
		t.Errorf("at 360 px the page scrolls sideways: %s px", w)
	}
	run("wide screen", chromedp.EmulateViewport(1280, 900))

	run("sign out",
		chromedp.Click(chromedp.CSS(`[data-testid="signout"]`)),
		chromedp.WaitVisible(chromedp.CSS("#username")),
	)
	if got := eval("location.pathname"); got != "/staff/signin" {
		t.Fatalf("after sign-out the browser is on %s", got)
	}
	if got := eval("document.documentElement.lang"); got != "nl" {
		t.Fatalf("sign-in page after sign-out is in %q, want the chosen nl", got)
	}
	if got := text("#signin h1"); got != "Aanmelden medewerkers" {
		t.Fatalf("sign-in heading %q", got)
	}
	// The study list is out of reach now.
	run("study list after sign-out", chromedp.Navigate(srv.URL+"/staff/"), chromedp.WaitVisible(chromedp.CSS("#username")))
	if loc := eval("location.pathname"); loc != "/staff/signin" {
		t.Fatalf("study list reachable after sign-out: %s", loc)
	}
	if n := countSessions(t, srv); n != 0 {
		t.Fatalf("%d sessions left after sign-out", n)
	}
}
