package studylist_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func date(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// listRows returns the accession numbers of the list's rows, in order.
func listRows(doc *goquery.Document) []string {
	var out []string
	doc.Find(`#results tbody tr td[data-col="accession"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

func setAccession(t *testing.T, srv *testserver.Server, s *database.Study, acc string, day *time.Time) {
	t.Helper()
	_, err := srv.DB.NewUpdate().Model(s).Set("accession = ?", acc).Set("study_date = ?", day).WherePK().Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Accession = acc
}

func TestStudyListShowsColumnsAndPrintContract(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	s := testserver.MustPatientStudy(t, srv.DB, d, "PID-42", "Müller", "Anna", date("1961-02-03"))
	setAccession(t, srv, s, "ACC-42", date("2026-05-06"))
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	res, body := c.Get("/staff/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q, want no-store (patient data)", cc)
	}
	doc := testserver.Doc(t, body)
	row := doc.Find(`#results tbody tr`)
	if row.Length() != 1 {
		t.Fatalf("%d rows, want 1", row.Length())
	}
	want := map[string]string{
		"name": "Müller, Anna", "patientid": "PID-42", "birth": "1961-02-03", "date": "2026-05-06",
		"modalities": "CT", "description": "CT thorax", "accession": "ACC-42", "images": "10", "report": "No report",
	}
	for col, w := range want {
		if got := strings.TrimSpace(row.Find(`td[data-col="` + col + `"]`).Text()); got != w {
			t.Errorf("column %s = %q, want %q", col, got, w)
		}
	}
	if row.Find(`td[data-col="department"]`).Length() != 0 {
		t.Error("department staff see a department column")
	}
	if href, _ := row.Find(`td[data-col="name"] a`).Attr("href"); href != "/staff/studies/"+strconv.FormatInt(s.ID, 10) {
		t.Errorf("row links to %q", href)
	}
	// The contract with the print step.
	form := doc.Find(`form#selection[method="get"][action="/staff/print"]`)
	if form.Length() != 1 {
		t.Fatal("no selection form posting to /staff/print")
	}
	cb := form.Find(`input[type="checkbox"][name="study"]`)
	if v, _ := cb.Attr("value"); v != strconv.FormatInt(s.ID, 10) {
		t.Errorf("checkbox value %q", v)
	}
	if v, _ := cb.Attr("data-patient"); v != strconv.FormatInt(s.PatientID, 10) {
		t.Errorf("checkbox data-patient %q", v)
	}
	btn := form.Find(`button#print-button[type="submit"].primary`)
	if got := strings.TrimSpace(btn.Text()); got != "PRINT REFERENCE NUMBER" {
		t.Errorf("print button says %q", got)
	}
	if form.Find(`#select-all`).Length() != 1 || doc.Find(`#selection-count`).Length() != 1 {
		t.Error("no select-all checkbox or selection count")
	}
	// Live search is wired to htmx, and the plain form works without it.
	q := doc.Find(`form#search[method="get"][action="/staff/"] input[name="q"]`)
	if trig, _ := q.Attr("hx-trigger"); !strings.Contains(trig, "input changed delay:300ms") {
		t.Errorf("search input hx-trigger %q", trig)
	}
	if push, _ := q.Attr("hx-push-url"); push != "true" {
		t.Error("search does not push the URL")
	}
}

func TestStudyListSearchWithoutJavaScript(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	setAccession(t, srv, testserver.MustPatientStudy(t, srv.DB, d, "P1", "Müller", "Anna", nil), "ACC-M", date("2026-01-01"))
	setAccession(t, srv, testserver.MustPatientStudy(t, srv.DB, d, "P2", "Dubois", "Élodie", nil), "ACC-D", date("2026-01-02"))
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	for q, want := range map[string]string{"muller": "ACC-M", "ÉLO": "ACC-D", "P2": "ACC-D", "acc-m": "ACC-M"} {
		doc := c.GetDoc("/staff/?q="+url.QueryEscape(q), http.StatusOK)
		if got := listRows(doc); len(got) != 1 || got[0] != want {
			t.Errorf("search %q: rows %v, want [%s]", q, got, want)
		}
		if v, _ := doc.Find(`input[name="q"]`).Attr("value"); v != q {
			t.Errorf("search box shows %q, want %q", v, q)
		}
	}
	doc := c.GetDoc("/staff/?q=nobody", http.StatusOK)
	if got := strings.TrimSpace(doc.Find(`[data-testid="studylist-empty"]`).Text()); got != "No studies match your search." {
		t.Errorf("no-match message %q", got)
	}
}

func TestStudyListHTMXGetsTheFragmentOnly(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	testserver.MustPatientStudy(t, srv.DB, d, "P1", "Müller", "Anna", nil)
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)

	res, body := c.Get("/staff/?q=muller", "HX-Request", "true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("htmx status %d", res.StatusCode)
	}
	if !strings.HasPrefix(strings.TrimSpace(body), `<div id="results"`) || strings.Contains(body, "<html") {
		t.Fatalf("htmx answer is not the results fragment:\n%.300s", body)
	}
	if !strings.Contains(res.Header.Get("Vary"), "HX-Request") {
		t.Errorf("htmx answer Vary %q lacks HX-Request", res.Header.Get("Vary"))
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("fragment with patient data is cacheable")
	}
	if n := testserver.Doc(t, body).Find(`tbody tr`).Length(); n != 1 {
		t.Errorf("fragment has %d rows", n)
	}

	res, body = c.Get("/staff/?q=muller")
	if !strings.Contains(body, "<html") || !strings.Contains(res.Header.Get("Vary"), "HX-Request") {
		t.Fatalf("plain GET is not a full page with Vary: HX-Request (Vary %q)", res.Header.Get("Vary"))
	}
	// A boosted navigation wants the whole page too.
	_, body = c.Get("/staff/?q=muller", "HX-Request", "true", "HX-Boosted", "true")
	if !strings.Contains(body, "<html") {
		t.Fatal("boosted request got a fragment")
	}
}

func TestStudyListDepartmentIsolation(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	a := testserver.MustDepartment(t, srv.DB, "DEPT-A")
	b := testserver.MustDepartment(t, srv.DB, "DEPT-B")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, a)
	testserver.MustUser(t, srv.DB, "adam", database.RoleAdmin, a)
	testserver.MustUser(t, srv.DB, "desk", database.RoleServiceDesk, nil)
	sa := testserver.MustPatientStudy(t, srv.DB, a, "PA", "Janssens", "Anna", nil)
	setAccession(t, srv, sa, "IN-A", date("2026-01-01"))
	sb := testserver.MustPatientStudy(t, srv.DB, b, "PB", "Janssens", "Bert", nil)
	setAccession(t, srv, sb, "IN-B", date("2026-01-02"))
	bid := strconv.FormatInt(b.ID, 10)

	for _, user := range []string{"ann", "adam"} {
		c := srv.Client(t)
		c.SignIn(user, testserver.Password)
		// Each page must be the study list itself (an error page shows no
		// foreign study either) with the own department's study where the
		// query matches it.
		for _, tt := range []struct {
			path    string
			wantOwn bool
		}{
			{"/staff/", true},
			{"/staff/?department=" + bid, true},
			{"/staff/?q=IN-B", false},
			{"/staff/?q=janssens&department=" + bid, true},
			{"/staff/?study=" + strconv.FormatInt(sb.ID, 10), true},
		} {
			path := tt.path
			res, body := c.Get(path)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s at %s: status %d, want 200", user, path, res.StatusCode)
				continue
			}
			doc := testserver.Doc(t, body)
			rows := listRows(doc)
			if doc.Find(`tbody`).Length() == 0 && len(rows) == 0 && tt.wantOwn {
				t.Errorf("%s at %s: no study list on the page", user, path)
			}
			if got := strings.Join(rows, ","); tt.wantOwn && got != "IN-A" {
				t.Errorf("%s at %s sees %q, want the own department's IN-A", user, path, got)
			}
			if strings.Contains(strings.Join(listRows(doc), ","), "IN-B") || strings.Contains(body, "Bert") {
				t.Errorf("%s sees department B's study at %s", user, path)
			}
			if doc.Find(`select[name="department"]`).Length() != 0 {
				t.Errorf("%s is offered a department filter", user)
			}
			if v, ok := doc.Find(`input[name="study"][value="` + strconv.FormatInt(sb.ID, 10) + `"]`).Attr("value"); ok {
				t.Errorf("%s carries B's study %s in the selection", user, v)
			}
		}
	}

	c := srv.Client(t)
	c.SignIn("desk", testserver.Password)
	doc := c.GetDoc("/staff/", http.StatusOK)
	if got := listRows(doc); len(got) != 2 {
		t.Fatalf("service desk sees %v, want both departments", got)
	}
	if got := strings.TrimSpace(doc.Find(`tbody tr`).First().Find(`td[data-col="department"]`).Text()); got != b.Name {
		t.Errorf("department column %q, want %q", got, b.Name)
	}
	if doc.Find(`select[name="department"] option`).Length() != 3 {
		t.Error("service desk department filter does not list all departments")
	}
	doc = c.GetDoc("/staff/?department="+bid, http.StatusOK)
	if got := listRows(doc); len(got) != 1 || got[0] != "IN-B" {
		t.Errorf("service desk filtered on B sees %v", got)
	}
	if _, ok := doc.Find(`select[name="department"] option[value="` + bid + `"]`).Attr("selected"); !ok {
		t.Error("department filter does not keep its choice")
	}
}

func TestStudyListFiltersAndErrors(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	ctx := context.Background()
	mk := func(acc, day, mod, report string) {
		s := testserver.MustPatientStudy(t, srv.DB, d, "P-"+acc, "Peeters", acc, nil)
		_, err := srv.DB.NewUpdate().Model(s).Set("accession = ?", acc).Set("study_date = ?", day).
			Set("modalities = ARRAY[?]::text[]", mod).Set("report_status = ?", report).WherePK().Exec(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	mk("F1", "2025-12-31", "CT", "none")
	mk("F2", "2026-01-10", "MR", "final")
	mk("F3", "2026-02-10", "CT", "preliminary")
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	cases := []struct{ query, want string }{
		{"from=2026-01-01", "F3,F2"},
		{"to=2026-01-10", "F2,F1"},
		{"from=2026-01-01&to=2026-01-31", "F2"},
		{"modality=CT", "F3,F1"},
		{"modality=ct", "F3,F1"},
		{"report=yes", "F3,F2"},
		{"report=no", "F1"},
		{"report=bogus", "F3,F2,F1"},
		{"modality=CT&report=yes", "F3"},
	}
	for _, cs := range cases {
		doc := c.GetDoc("/staff/?"+cs.query, http.StatusOK)
		if got := strings.Join(listRows(doc), ","); got != cs.want {
			t.Errorf("%s: rows %s, want %s", cs.query, got, cs.want)
		}
	}

	// Wrong filters: 422, the message on the field, in the user's language.
	for _, lang := range []string{"en", "nl"} {
		if _, err := srv.DB.NewUpdate().Model(u).Set("language = ?", lang).WherePK().Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct{ query, field, key string }{
			{"from=2026-13-45", "from", "studylist.error.date"},
			{"to=yesterday", "to", "studylist.error.date"},
			{"from=2026-02-01&to=2026-01-01", "to", "studylist.error.range"},
		} {
			res, body := c.Get("/staff/?" + bad.query)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: status %d, want 422", bad.query, res.StatusCode)
			}
			want := i18n.T(lang, bad.key)
			if got := strings.TrimSpace(testserver.Doc(t, body).Find("#" + bad.field + "-error").Text()); got != want {
				t.Errorf("%s (%s): field error %q, want %q", bad.query, lang, got, want)
			}
		}
	}
	if i18n.T("en", "studylist.error.date") == i18n.T("nl", "studylist.error.date") {
		t.Fatal("the date error is not translated")
	}
}

func TestStudyListPagesAndSelection(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	var all []*database.Study
	for i := 0; i < 63; i++ {
		s := testserver.MustPatientStudy(t, srv.DB, d, fmt.Sprintf("P%02d", i%5), "Lefèvre", "Chloé", nil)
		setAccession(t, srv, s, fmt.Sprintf("PG%02d", i), date(fmt.Sprintf("2026-03-%02d", 1+i%20)))
		all = append(all, s)
	}
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)
	// Pre-selection (PRINT AGAIN comes back with ?study=...): one study on
	// this page is checked, one elsewhere is carried in a hidden field.
	first := c.GetDoc("/staff/", http.StatusOK)
	firstRows := listRows(first)
	if len(firstRows) != 50 {
		t.Fatalf("first page has %d rows, want 50", len(firstRows))
	}
	onPage := first.Find(`tbody input[name="study"]`).First().AttrOr("value", "")
	lastRow := first.Find(`tbody input[name="study"]`).Last().AttrOr("value", "")
	next, ok := first.Find(`a[data-testid="next"]`).Attr("href")
	if !ok || first.Find(`a[data-testid="prev"]`).Length() != 0 {
		t.Fatal("first page: want a next link and no previous link")
	}
	page2 := c.GetDoc(next, http.StatusOK)
	rows2 := listRows(page2)
	if len(rows2) != 13 {
		t.Fatalf("second page has %d rows, want 13", len(rows2))
	}
	seen := map[string]bool{}
	for _, r := range append(firstRows, rows2...) {
		if seen[r] {
			t.Fatalf("study %s on two pages", r)
		}
		seen[r] = true
	}
	if len(seen) != 63 || page2.Find(`a[data-testid="next"]`).Length() != 0 {
		t.Fatalf("pages cover %d studies; the last page must not link further", len(seen))
	}
	prev, _ := page2.Find(`a[data-testid="prev"]`).Attr("href")
	if got := listRows(c.GetDoc(prev, http.StatusOK)); strings.Join(got, ",") != strings.Join(firstRows, ",") {
		t.Fatal("previous page differs from the first page")
	}

	elsewhere := page2.Find(`tbody input[name="study"]`).First().AttrOr("value", "")
	doc := c.GetDoc("/staff/?study="+onPage+"&study="+elsewhere+"&study=999999999&study=abc", http.StatusOK)
	if _, ok := doc.Find(`tbody input[name="study"][value="` + onPage + `"]`).Attr("checked"); !ok {
		t.Error("pre-selected study on the page is not checked")
	}
	if _, ok := doc.Find(`tbody input[name="study"][value="` + lastRow + `"]`).Attr("checked"); ok {
		t.Error("a study not in the selection is checked")
	}
	carry := doc.Find(`#results input[type="hidden"][name="study"][data-carry]`)
	if carry.Length() != 1 || carry.AttrOr("value", "") != elsewhere || carry.AttrOr("data-patient", "") == "" {
		t.Errorf("carried selection: %d hidden inputs, value %q", carry.Length(), carry.AttrOr("value", ""))
	}
	if got := strings.TrimSpace(doc.Find(`#selection-count`).Text()); got != "2" {
		t.Errorf("selection count %q, want 2 (unknown ids dropped)", got)
	}
	// Without JavaScript a new search keeps the selection, and so do the pager links.
	if doc.Find(`form#search input[type="hidden"][name="study"]`).Length() != 2 {
		t.Error("search form does not carry the selection")
	}
	if href := doc.Find(`a[data-testid="next"]`).AttrOr("href", ""); !strings.Contains(href, "study="+elsewhere) {
		t.Errorf("next link %q drops the selection", href)
	}
	// A hand-made cursor shows the first page, not an error.
	if got := listRows(c.GetDoc("/staff/?after=garbage", http.StatusOK)); len(got) != 50 {
		t.Errorf("bad cursor: %d rows", len(got))
	}
}

func TestStudyListNeedsSignIn(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	res, _ := srv.Client(t).Get("/staff/?q=muller")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/signin") {
		t.Fatalf("anonymous list: status %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}
