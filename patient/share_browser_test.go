package patient_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/testkit/testbrowser"
)

// layoutProblems lists what is wrong with the page's layout: a page that
// scrolls sideways, text cut by its box (overflow hidden or clipped), and
// on a phone every visible control (buttons, fields, button-links, links
// that stand alone) smaller than 44×44 CSS px. Links inside running text
// are exempt (WCAG 2.5.8 exempts inline targets).
const layoutProblems = `(function (W) {
  var out = [];
  if (document.documentElement.scrollWidth > W + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + W);
  function name(e) {
    var t = (e.getAttribute('data-testid') || e.id || e.name || (e.textContent || '').trim().slice(0, 30));
    return e.tagName.toLowerCase() + '[' + t + ']';
  }
  function visible(e) {
    var r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  }
  document.querySelectorAll('main *, body > header *').forEach(function (e) {
    if (!visible(e)) return;
    var r = e.getBoundingClientRect();
    if (r.right > W + 1) out.push(name(e) + ' ends at ' + Math.round(r.right) + ' px, past the ' + W + ' px viewport');
    var s = getComputedStyle(e);
    if (e.tagName !== 'INPUT' && (s.overflowX === 'hidden' || s.overflowX === 'clip') && e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1 && e.children.length === 0)
      out.push(name(e) + ' cuts its text (' + e.scrollWidth + ' > ' + e.clientWidth + ')');
  });
  if (W < 600) {
    document.querySelectorAll('button, input:not([type=hidden]), select, textarea, summary, a').forEach(function (e) {
      if (!visible(e)) return;
      var r = e.getBoundingClientRect();
      var target = r;
      if (e.tagName === 'A') {
        var p = e.parentElement;
        var inline = p && /^(P|DD|TD|SPAN|LABEL|SMALL)$/.test(p.tagName) && (p.textContent || '').trim().length > (e.textContent || '').trim().length + 2;
        if (inline && !e.classList.contains('button')) return;
      }
      if (e.type === 'checkbox' || e.type === 'radio') {
        var l = e.id && document.querySelector('label[for="' + e.id + '"]');
        var box = e.closest('.check') || l;
        if (box) target = box.getBoundingClientRect();
      }
      if (target.height < 43.5 || target.width < 43.5) out.push(name(e) + ' is ' + Math.round(target.width) + '×' + Math.round(target.height) + ' px');
    });
  }
  return JSON.stringify(out);
})`

// shareShot checks the page's layout (layoutProblems) and, when
// RADPASS_TEST_SHOTS names a folder, saves the first screen and the whole
// page there as name-first.png and name-full.png.
func shareShot(t *testing.T, p testbrowser.Page, v testbrowser.Viewport, name string) {
	t.Helper()
	var problems []string
	if err := json.Unmarshal([]byte(p.Eval(layoutProblems+"("+strconv.FormatInt(v.Width, 10)+")")), &problems); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, pr := range problems {
		t.Errorf("%s: %s", name, pr)
	}
	dir := os.Getenv("RADPASS_TEST_SHOTS")
	if dir == "" {
		return
	}
	p.Screenshot(filepath.Join(dir, name+"-first.png"))
	// quality 100: PNG
	full, err := chromedp.Run(p.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+"-full.png"), full, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The "Done when" walk-through in two browsers, every page checked at a
// 360×740 phone and at a 1280×720 desktop: the patient makes a viewer link
// and shares two of three studies with a doctor's (long) e-mail address;
// the doctor opens
// the link from /dev/outbox in another browser context, asks for the code,
// types a wrong one, reads the right one there, and sees the two studies
// only, the first image whole on the first screen; the patient sees
// "opened" and the activity; after the patient revokes, the doctor's next
// click ends at the start page. On every page: nothing scrolls sideways or
// cuts its text, every control on the phone is at least 44 px both ways,
// and axe-core finds no WCAG 2.2 AA violation (on the phone).
// RADPASS_TEST_SHOTS=dir saves screenshots of every page there.
func TestBrowserShareWithDoctor(t *testing.T) {
	f := newShareFixture(t)
	const to = "dr.a.very.long.name.peeters-vandenbroucke@radiology.example.org"
	third := `#share-study-` + id(f.studies[2].ID)
	phone, desktop := testbrowser.ViewerViewports[1], testbrowser.ViewerViewports[4]
	// check checks the page on the phone (layout, axe-core), then turns
	// the tab into the desktop (layout; the same HTML, so no second axe
	// run) and back: one walk covers both sizes.
	check := func(p testbrowser.Page, name string) {
		t.Helper()
		shareShot(t, p, phone, "phone-"+name)
		p.Axe("phone " + name)
		p.Emulate(desktop)
		shareShot(t, p, desktop, "desktop-"+name)
		p.Emulate(phone)
	}
	pat := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 240*time.Second)}
	pat.Emulate(phone)
	pat.Do("sign in", chromedp.Navigate(f.srv.URL+"/?ref="+f.number+"&lang=en"), chromedp.WaitVisible(chromedp.CSS("#dob-day")),
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-open"]`)))
	check(pat, "patient-studies")
	pat.Do("make a viewer link", chromedp.Click(chromedp.CSS(`[data-testid="link-create"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="link-url"]`)))
	check(pat, "viewer-links")
	// The link works until the end of the access's last day, and says so.
	if row, last := pat.Text(`[data-testid="link-row"]`), f.bucket.ValidUntil.Format(time.DateOnly); !strings.Contains(row, "until "+last) {
		t.Errorf("viewer link row %q, want the access's last day %s", row, last)
	}
	pat.Do("open the shares", chromedp.Click(chromedp.CSS(`[data-testid="share-open"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-new"]`)))
	check(pat, "shares")
	pat.Do("open the form", chromedp.Click(chromedp.CSS(`[data-testid="share-new"]`)), chromedp.WaitVisible(chromedp.CSS("#share-to")))
	check(pat, "share-new")
	pat.Do("share form errors", chromedp.Click(chromedp.CSS(`[data-testid="share-submit"]`)), chromedp.WaitVisible(chromedp.CSS(`.field-error`)))
	check(pat, "share-new-errors")
	pat.Do("share two of three", chromedp.SendKeys(chromedp.CSS("#share-to"), to),
		chromedp.Click(chromedp.CSS(third)),
		chromedp.SendKeys(chromedp.CSS("#share-message"), "Für Dr. Peeters – knee, see the second series please"),
		chromedp.SendKeys(chromedp.CSS("#dob-day"), "9"),
		chromedp.SetValue(chromedp.CSS("#dob-month"), "3"),
		chromedp.SendKeys(chromedp.CSS("#dob-year"), "1961"),
		chromedp.Click(chromedp.CSS(`[data-testid="share-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-notice"]`)))
	check(pat, "shares-sent")

	doc := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 240*time.Second)}
	doc.Emulate(phone)
	doc.Do("the outbox", chromedp.Navigate(f.srv.URL+"/dev/outbox"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="outbox-text"]`)))
	link := doc.Eval(`(document.querySelector('[data-testid="outbox-text"]').textContent.match(/https?:\/\/\S+\/s\/[A-Za-z0-9_-]+/) || [""])[0]`)
	if link == "" {
		t.Fatal("no share link in the outbox")
	}
	doc.Do("open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-send"]`)))
	check(doc, "doctor-link")
	doc.Do("ask for the code", chromedp.Click(chromedp.CSS(`[data-testid="share-send"]`)), chromedp.WaitVisible(chromedp.CSS("#code")))
	check(doc, "doctor-code")
	doc.Do("a wrong code", chromedp.SendKeys(chromedp.CSS("#code"), "000000"), chromedp.Click(chromedp.CSS(`[data-testid="code-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="code-error"]`)))
	check(doc, "doctor-code-error")
	doc.Do("the outbox again", chromedp.Navigate(f.srv.URL+"/dev/outbox"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="outbox-text"]`)))
	code := doc.Eval(`(document.querySelector('[data-testid="outbox-text"]').textContent.match(/\b[0-9]{6}\b/) || [""])[0]`)
	doc.Do("type the code", chromedp.Navigate(f.srv.URL+"/s/code"), chromedp.WaitVisible(chromedp.CSS("#code")),
		chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS(`[data-testid="code-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="patient-studies"]`)))
	if n := doc.Eval(`String(document.querySelectorAll('[data-testid="study-link"]').length)`); n != "2" {
		t.Fatalf("the doctor sees %s studies, want 2", n)
	}
	if strings.Contains(doc.Eval(`document.body.innerHTML`), "/p/studies/"+id(f.studies[2].ID)+`"`) {
		t.Fatal("the doctor is shown the study that was not shared")
	}
	check(doc, "doctor-studies")
	doc.Do("a study", chromedp.Click(chromedp.CSS(`[data-testid="study-link"]`)))
	doc.CheckFit("phone doctor's viewer", doc.ViewerFit())
	check(doc, "doctor-viewer")
	doc.Emulate(desktop)
	doc.CheckFit("desktop doctor's viewer", doc.ViewerFit())
	doc.Emulate(phone)

	pat.Do("the patient's list", chromedp.Navigate(f.srv.URL+"/p/shares"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-last"]`)))
	if got := pat.Text(`[data-testid="share-opened"]`); got != "Yes" {
		t.Fatalf("opened: %q", got)
	}
	check(pat, "shares-opened")
	pat.Do("activity", chromedp.Navigate(f.srv.URL+"/p/activity"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="activity-list"]`)))
	check(pat, "activity")
	pat.Do("revoke", chromedp.Navigate(f.srv.URL+"/p/shares"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-revoke"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="share-revoke"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="share-notice"]`)))
	doc.Do("the doctor's next click", chromedp.Navigate(f.srv.URL+"/p/"), chromedp.WaitVisible(chromedp.CSS("#ref")))
	if path := doc.Eval(`location.pathname`); path != "/" {
		t.Fatalf("the doctor ended at %q, want the start page", path)
	}
}
