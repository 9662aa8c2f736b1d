package testbrowser

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Page runs the steps of one browser test: every step that goes wrong fails
// the test, saying what was being done.
type Page struct {
	TB  testing.TB
	Ctx context.Context
}

// Do runs actions; what names the step in the failure.
func (p Page) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.TB.Helper()
	if err := chromedp.Do(p.Ctx, actions...); err != nil {
		p.TB.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression that yields a string.
func (p Page) Eval(expr string) string {
	p.TB.Helper()
	v, err := chromedp.Run(p.Ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.TB.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Text is the visible text of the first element matching the CSS selector,
// trimmed.
func (p Page) Text(sel string) string {
	p.TB.Helper()
	v, err := chromedp.Run(p.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.TB.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// WaitTrue waits up to 20 s for the JavaScript expression to be truthy. It
// polls with Eval rather than chromedp.Poll, whose requestAnimationFrame
// polling can stall in a tab that is not in front.
func (p Page) WaitTrue(what, expr string) {
	p.TB.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for p.Eval("String(!!("+expr+"))") != "true" {
		if time.Now().After(deadline) {
			p.TB.Fatalf("timed out waiting for %s (%s)", what, expr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SignInSteps fill in and submit the staff sign-in form already open in the
// tab, then wait for the signed-in page header.
func SignInSteps(username, password string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="department"]`)),
	}
}

// SignIn opens the staff sign-in page of the server at baseURL and signs in;
// the tab ends on the study list.
func (p Page) SignIn(baseURL, username, password string) {
	p.TB.Helper()
	p.Do("sign in as "+username, append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(baseURL + "/staff/signin")},
		SignInSteps(username, password)...)...)
}
