package patient_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/testkit/testbrowser"
)

// The "Done when" walk-through on a phone, in two browsers: the patient
// shares two of three studies with a doctor's e-mail address; the doctor
// opens the link from /dev/outbox in another browser context, asks for the
// code, reads it there, and sees the two studies only; the patient sees
// "opened" and revokes; the doctor's next click ends at the start page.
// axe-core finds no WCAG 2.2 AA violation on any page of the way.
func TestBrowserShareWithDoctor(t *testing.T) {
	f := newShareFixture(t)
	pat := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 180*time.Second)}
	phone(pat)
	pat.Do("sign in", chromedp.Navigate(f.srv.URL+"/?ref="+f.number+"&lang=en"), chromedp.WaitVisible(chromedp.CSS("#dob-day")),
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-open"]`)))
	pat.Do("open the shares", chromedp.Click(chromedp.CSS(`[data-testid="share-open"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-none"]`)))
	pat.Do("open the form", chromedp.Click(chromedp.CSS(`[data-testid="share-new"]`)), chromedp.WaitVisible(chromedp.CSS("#share-to")))
	pat.Axe("share form")
	third := `#share-study-` + id(f.studies[2].ID)
	pat.Do("share two of three",
		chromedp.SendKeys(chromedp.CSS("#share-to"), "dr.peeters@example.org"),
		chromedp.Click(chromedp.CSS(third)),
		chromedp.SendKeys(chromedp.CSS("#share-message"), "For Dr. Peeters, knee"),
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="share-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-notice"]`)))
	pat.Axe("share sent")
	if over := pat.Eval(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`); over != "false" {
		t.Fatal("the shares page scrolls sideways at 360 px")
	}

	doc := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 180*time.Second)}
	phone(doc)
	doc.Do("the outbox", chromedp.Navigate(f.srv.URL+"/dev/outbox"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="outbox-text"]`)))
	link := doc.Eval(`(document.querySelector('[data-testid="outbox-text"]').textContent.match(/https?:\/\/\S+\/s\/[A-Za-z0-9_-]+/) || [""])[0]`)
	if link == "" {
		t.Fatal("no share link in the outbox")
	}
	doc.Do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-send"]`)))
	doc.Axe("share link page")
	doc.Do("ask for the code", chromedp.Click(chromedp.CSS(`[data-testid="share-send"]`)), chromedp.WaitVisible(chromedp.CSS("#code")))
	doc.Axe("doctor's code page")
	doc.Do("the outbox again", chromedp.Navigate(f.srv.URL+"/dev/outbox"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="outbox-text"]`)))
	code := doc.Eval(`(document.querySelector('[data-testid="outbox-text"]').textContent.match(/\b[0-9]{6}\b/) || [""])[0]`)
	doc.Do("type the code", chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.CSS("#code")),
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`[data-testid="code-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="patient-studies"]`)))
	if n := doc.Eval(`String(document.querySelectorAll('[data-testid="study-link"]').length)`); n != "2" {
		t.Fatalf("the doctor sees %s studies, want 2", n)
	}
	if strings.Contains(doc.Eval(`document.body.innerHTML`), "/p/studies/"+id(f.studies[2].ID)+`"`) {
		t.Fatal("the doctor is shown the study that was not shared")
	}
	doc.Axe("doctor's study list")

	pat.Do("the patient's list", chromedp.Navigate(f.srv.URL+"/p/shares"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-opened"]`)))
	if got := pat.Text(`[data-testid="share-opened"]`); got != "Yes" {
		t.Fatalf("opened: %q", got)
	}
	pat.Do("revoke", chromedp.Click(chromedp.CSS(`[data-testid="share-revoke"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-notice"]`)))

	doc.Do("the doctor's next click", chromedp.Click(chromedp.CSS(`[data-testid="study-link"]`)), chromedp.WaitVisible(chromedp.CSS("#ref")))
	if path := doc.Eval(`location.pathname`); path != "/" {
		t.Fatalf("the doctor ended at %q, want the start page", path)
	}
}
