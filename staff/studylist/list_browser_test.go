package studylist_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A staff user in real Chromium: live search (htmx), select two studies of
// one patient (count, button), add a study of another patient (message,
// button disabled), keep the selection across a new search, then print.
func TestBrowserStudyListSelection(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	anna1 := testserver.MustPatientStudy(t, srv.DB, d, "P-ANNA", "Müller", "Anna", date("1970-01-02"))
	anna2 := testserver.MustPatientStudy(t, srv.DB, d, "P-ANNA", "Müller", "Anna", date("1970-01-02"))
	bernd := testserver.MustPatientStudy(t, srv.DB, d, "P-BERND", "Mueller-Muller", "Bernd", date("1980-03-04"))
	for i := 0; i < 4; i++ {
		testserver.MustPatientStudy(t, srv.DB, d, "P-D"+strconv.Itoa(i), "Dubois", "Élodie", date("1990-05-06"))
	}
	ctx := testbrowser.New(t, 120*time.Second)

	p := testbrowser.Page{TB: t, Ctx: ctx}
	run, eval, waitFor := p.Do, p.Eval, p.WaitTrue
	rows := `String(document.querySelectorAll('#results tbody tr').length)`
	count := `document.getElementById('selection-count').textContent`
	disabled := `String(document.getElementById('print-button').disabled)`
	mixHidden := `String(document.getElementById('patient-mix').hidden)`
	box := func(s *database.Study) chromedp.CSS {
		return chromedp.CSS(`#results input[name="study"][value="` + strconv.FormatInt(s.ID, 10) + `"]`)
	}

	p.SignIn(srv.URL, "ann", testserver.Password)
	run("the study list", chromedp.WaitVisible(chromedp.CSS(`#q`)))
	if got := eval(rows); got != "7" {
		t.Fatalf("list shows %s rows, want 7", got)
	}
	if eval(disabled) != "true" || eval(count) != "0" {
		t.Fatal("with nothing selected the print button must be disabled and the count 0")
	}

	// Typing searches as you type (debounced), folded: "muller" finds Müller
	// and Mueller-Muller, and the URL follows the search.
	run("type a search", chromedp.SendKeys(chromedp.CSS("#q"), "muller"))
	waitFor("the search results", rows+` === '3'`)
	if loc := eval(`location.search`); !strings.Contains(loc, "q=muller") {
		t.Errorf("URL after search %q does not hold the search", loc)
	}

	run("select Anna's two studies", chromedp.Click(box(anna1)), chromedp.Click(box(anna2)))
	if eval(count) != "2" || eval(disabled) != "false" || eval(mixHidden) != "true" {
		t.Fatalf("two studies of one patient: count %s, disabled %s, message hidden %s", eval(count), eval(disabled), eval(mixHidden))
	}

	run("add Bernd's study", chromedp.Click(box(bernd)))
	if eval(count) != "3" || eval(disabled) != "true" || eval(mixHidden) != "false" {
		t.Fatalf("two patients: count %s, disabled %s, message hidden %s", eval(count), eval(disabled), eval(mixHidden))
	}
	if got := strings.TrimSpace(eval(`document.getElementById('patient-mix').textContent`)); got != i18n.T("en", "studylist.mixedpatients") {
		t.Fatalf("mixed-patient message %q", got)
	}
	// Submitting anyway (Enter, a script) goes nowhere.
	eval(`document.getElementById('selection').requestSubmit(); location.pathname`)
	time.Sleep(300 * time.Millisecond)
	if p := eval(`location.pathname`); p != "/staff/" {
		t.Fatalf("a mixed selection navigated to %s", p)
	}

	// All three rows are checked, so select-all shows checked; clicking it
	// clears the page, clicking again checks every row.
	if eval(`String(document.getElementById('select-all').checked)`) != "true" {
		t.Fatal("select-all is not checked with every row checked")
	}
	run("select none", chromedp.Click(chromedp.CSS("#select-all")))
	if eval(count) != "0" || eval(disabled) != "true" || eval(mixHidden) != "true" {
		t.Fatal("select-all off did not clear the selection")
	}
	run("select all", chromedp.Click(chromedp.CSS("#select-all")))
	if eval(`String(document.querySelectorAll('#results tbody input:checked').length)`) != "3" || eval(count) != "3" {
		t.Fatal("select-all did not check every row")
	}
	run("select none again", chromedp.Click(chromedp.CSS("#select-all")))
	run("select Anna's two again", chromedp.Click(box(anna1)), chromedp.Click(box(anna2)))
	if eval(`String(document.getElementById('select-all').indeterminate)`) != "true" {
		t.Error("select-all is not indeterminate with two of three rows checked")
	}

	// A new search keeps the selection, even for studies no longer shown.
	clear := func() { eval(`document.getElementById('q').value = ''; 'ok'`) }
	clear()
	run("search Dubois", chromedp.SendKeys(chromedp.CSS("#q"), "dubois"))
	waitFor("Dubois results", rows+` === '4'`)
	if eval(count) != "2" || eval(disabled) != "false" {
		t.Fatalf("after a new search the selection is %s studies (button disabled %s), want 2", eval(count), eval(disabled))
	}
	clear()
	run("back to Anna", chromedp.SendKeys(chromedp.CSS("#q"), "anna"))
	waitFor("Anna results", rows+` === '2'`)
	if eval(`String(document.querySelectorAll('#results tbody input:checked').length)`) != "2" {
		t.Fatal("Anna's studies are not checked any more after searching elsewhere")
	}

	// PRINT REFERENCE NUMBER takes the selection to the print step.
	run("print", chromedp.Click(chromedp.CSS("#print-button")))
	waitFor("the print page", `location.pathname === '/staff/print'`)
	q := eval(`location.search`)
	for _, s := range []*database.Study{anna1, anna2} {
		if !strings.Contains(q, "study="+strconv.FormatInt(s.ID, 10)) {
			t.Errorf("print URL %q lacks study %d", q, s.ID)
		}
	}
	if strings.Contains(q, "study="+strconv.FormatInt(bernd.ID, 10)) {
		t.Errorf("print URL %q carries the other patient's study", q)
	}
}
