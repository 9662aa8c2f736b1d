package print_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// TestBrowserPrintFlow clicks through PRINT REFERENCE NUMBER as a staff
// member would, in real headless Chromium: sign in, search, select two
// studies, fill the form with one mistake, correct it, print with Print
// immediately (the letter opens in a new tab), PRINT THIS INFORMATION in
// French, COPY THIS INFORMATION (read back from the clipboard), PRINT AGAIN.
func TestBrowserPrintFlow(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	bd := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	s1 := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	s2 := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)
	testserver.MustPatientStudy(t, srv.DB, d, "P002", "Müller", "Jürgen", &bd)

	ctx := testbrowser.New(t, 90*time.Second)
	p := testbrowser.Page{TB: t, Ctx: ctx}
	do, text, waitJS := p.Do, p.Text, p.WaitTrue
	letterTab := func(lang string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			targets, err := chromedp.Targets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range targets {
				if tg.Type == "page" && strings.Contains(tg.URL, "/letter") && strings.Contains(tg.URL, "lang="+lang) {
					return
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("no tab opened with the %s letter", lang)
	}

	p.SignIn(srv.URL, "ann", testserver.Password)
	do("the study list", chromedp.WaitVisible("#q"))

	// STEP 1: search (accent-free, lower case) and select two studies.
	do("search", chromedp.SendKeys("#q", "lukasik"))
	waitJS("search results", `document.querySelectorAll('#results tr[data-study]').length === 2`)
	for _, s := range []*database.Study{s1, s2} {
		do("select", chromedp.Click(`tr[data-study="`+strconv.FormatInt(s.ID, 10)+`"] input[type=checkbox]`))
	}
	waitJS("count of 2", `document.getElementById('selection-count').textContent.trim() === '2'`)
	do("PRINT REFERENCE NUMBER", chromedp.Click("#print-button"), chromedp.WaitVisible("#print-form"))
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#print-form input[name=study]').length`)); err != nil || n != 2 {
		t.Fatalf("the form carries %d studies (%v)", n, err)
	}

	// Dependent fields follow the choices: e-mail and label selects hidden
	// until chosen; the anonymize + report note appears only for both.
	visible := func(sel string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('`+sel+`').offsetParent !== null`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if visible("#email") || visible("#label") || !visible("#phone") || visible("[data-testid=anon-note]") {
		t.Fatal("initial visibility of the dependent fields is wrong")
	}
	do("add label", chromedp.Click(`input[name=add_label]`))
	if !visible("#label") || !visible("#label_for") {
		t.Fatal("Add label does not open the label menus")
	}
	do("anonymize with report", chromedp.Click(`input[name=scope][value=images_report]`), chromedp.Click(`input[name=anonymize]`))
	if !visible("[data-testid=anon-note]") {
		t.Fatal("anonymize + images and report: no note that the report is never accessible")
	}
	do("undo", chromedp.Click(`input[name=anonymize]`), chromedp.Click(`input[name=add_label]`), chromedp.Click(`input[name=scope][value=images]`))
	if visible("[data-testid=anon-note]") || visible("#label") {
		t.Fatal("the note or the label menus stay after unchecking")
	}

	// STEP 2 with one mistake: a landline where a mobile number is needed.
	do("fill the form",
		chromedp.SendKeys("#phone", "02 555 12 34"),
		chromedp.SendKeys("#reason", "Patient asked for a copy"),
		chromedp.Click(`input[name=agreed]`),
		chromedp.Click(`input[name=print_now]`),
		chromedp.Click("#print-submit"),
		chromedp.WaitVisible(`[data-error=phone]`),
	)
	if got := text(`[data-error=phone]`); !strings.Contains(got, "not a valid mobile number") {
		t.Fatalf("phone error %q", got)
	}
	// The tab opened for the letter during the click is closed again (tabs
	// of this test's browser context: other tests share the browser).
	pages := func() int {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tg := range targets {
			if tg.Type == "page" && tg.BrowserContextID == chromedp.FromContext(ctx).BrowserContextID {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); pages() != 1; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			targets, _ := chromedp.Targets(ctx)
			for _, tg := range targets {
				t.Logf("target %s %s opener=%s", tg.Type, tg.URL, tg.OpenerID)
			}
			t.Fatalf("%d tabs open after a failed print, want 1", pages())
		}
	}
	if c := srv.Count(t, `SELECT count(*) FROM buckets`); c != 0 {
		t.Fatal("a bucket was stored despite the error")
	}

	// Correct it and print immediately: the letter opens in a new tab.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById('phone').value = '') === ''`)); err != nil {
		t.Fatal(err)
	}
	do("correct and print",
		chromedp.SendKeys("#phone", "0470 12 34 89"),
		chromedp.Click("#print-submit"),
		chromedp.WaitVisible(`[data-testid=refnum]`),
	)
	ref := text(`[data-testid=refnum]`)
	n, err := refnum.Parse(ref)
	if err != nil {
		t.Fatalf("confirmation shows %q: %v", ref, err)
	}
	letterTab("en")

	// PRINT THIS INFORMATION in French: same number, another tab.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById('letter-lang').value = 'fr') === 'fr'`)); err != nil {
		t.Fatal(err)
	}
	do("PRINT THIS INFORMATION", chromedp.Click("#print-this"))
	letterTab("fr")
	waitLetters := func(want int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for srv.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'bucket.letter'`) < want {
			if time.Now().After(deadline) {
				t.Fatalf("the letter tabs did not load %d letters", want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitLetters(2)
	var langs string
	if err := srv.DB.QueryRowContext(context.Background(), `SELECT string_agg(details->>'language', ',' ORDER BY id) FROM audit_events WHERE action = 'bucket.letter'`).Scan(&langs); err != nil || langs != "en,fr" {
		t.Fatalf("letters printed in %q (%v), want en,fr", langs, err)
	}

	// COPY THIS INFORMATION, then read the clipboard back.
	c := chromedp.FromContext(ctx)
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := cdp.Call(ctx, c.Browser, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: name == "clipboard-write"},
			Setting:    browser.PermissionSettingGranted, Origin: srv.URL, BrowserContextID: c.BrowserContextID,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	if _, err := cdp.Call(ctx, c.Target, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	do("COPY THIS INFORMATION", chromedp.Click("#copy-info"))
	waitJS("copied state", `document.getElementById('copy-info').classList.contains('copied')`)
	if got := text("#copy-info"); got != "Copied" {
		t.Errorf("copy button says %q", got)
	}
	clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	for _, w := range []string{n.Grouped(), "Valid until", "?ref=" + n.Canonical(), "date of birth"} {
		if !strings.Contains(clip, w) {
			t.Errorf("clipboard lacks %q:\n%s", w, clip)
		}
	}

	// Where the Clipboard API is missing, the text is shown selected for
	// copying by hand (and copied with execCommand where that works).
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	do("reload the confirmation", chromedp.Navigate(loc), chromedp.WaitVisible("#copy-info"))
	if visible("#copy-text") {
		t.Fatal("with JavaScript the copy text should wait behind the button")
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`Object.defineProperty(navigator, 'clipboard', {value: undefined, configurable: true}), true`)); err != nil {
		t.Fatal(err)
	}
	do("COPY without the Clipboard API", chromedp.Click("#copy-info"))
	waitJS("fallback text shown", `document.getElementById('copy-text').offsetParent !== null`)
	sel, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(a){ return a.value.substring(a.selectionStart, a.selectionEnd) })(document.getElementById('copy-text'))`))
	if err != nil || !strings.Contains(sel, n.Grouped()) {
		t.Fatalf("fallback does not select the text to copy: %q (%v)", sel, err)
	}

	// PRINT AGAIN: back to STEP 2 with the same selection and the sticky values.
	do("PRINT AGAIN", chromedp.Click("#print-again"), chromedp.WaitVisible("#print-form"))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('#print-form input[name=study]')].map(e => e.value).sort().join(',') + '|' +
		document.querySelector('input[name=verification]:checked').value + '|' + document.getElementById('sms_region').value + '|' + document.getElementById('language').value`))
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{strconv.FormatInt(s1.ID, 10), strconv.FormatInt(s2.ID, 10)}
	if ids[0] > ids[1] {
		ids[0], ids[1] = ids[1], ids[0]
	}
	if want := strings.Join(ids, ",") + "|sms|BE|en"; got != want {
		t.Fatalf("PRINT AGAIN form: %q, want %q", got, want)
	}
}
