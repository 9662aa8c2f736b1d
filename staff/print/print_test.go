package print_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func TestPrintFormShowsTheTenParameters(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	res, body := f.C.Get("/staff/print?" + testserver.StudyQuery(f.Studies...))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", res.StatusCode, body)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", res.Header.Get("Cache-Control"))
	}
	doc := testserver.Doc(t, body)
	form := doc.Find("form#print-form")
	for _, sel := range []string{
		`input[name=verification][value=sms]`, `input[name=verification][value=email]`, `input[name=verification][value=dob]`,
		`select[name=sms_region]`, `input[name=phone]`, `input[name=email]`,
		`input[name=scope][value=images]`, `input[name=scope][value=images_report]`,
		`textarea[name=reason]`, `select[name=language]`, `input[type=date][name=valid_until]`,
		`input[type=checkbox][name=agreed]`, `input[type=checkbox][name=add_label]`, `select[name=label]`, `select[name=label_for]`,
		`input[type=checkbox][name=anonymize]`, `textarea[name=message]`, `input[type=checkbox][name=print_now]`,
	} {
		if form.Find(sel).Length() != 1 {
			t.Errorf("form lacks %s", sel)
		}
	}
	text := form.Text()
	for _, w := range []string{"One Time Password by sms", "One Time Password by email", "No One Time Password, only date of birth",
		"Images only", "Images and read access to report", "Reason for printing", "Patient agreed", "Add label", "Anonymize", "Message", "Print immediately"} {
		if !strings.Contains(text, w) {
			t.Errorf("form lacks the seed's wording %q", w)
		}
	}
	if got := strings.TrimSpace(form.Find("#print-submit").Text()); got != "PRINT REFERENCE NUMBER" {
		t.Errorf("submit button %q", got)
	}
	// Defaults: today + the department's 1 month, the user's language, no max.
	if v, _ := form.Find(`[name=valid_until]`).Attr("value"); v != "2026-07-15" {
		t.Errorf("default validity %q, want 2026-07-15", v)
	}
	if v, _ := form.Find(`[name=valid_until]`).Attr("min"); v != "2026-06-16" {
		t.Errorf("min date %q", v)
	}
	// Without a department maximum the five-year ceiling applies.
	if v, _ := form.Find(`[name=valid_until]`).Attr("max"); v != "2031-06-15" {
		t.Errorf("max date without a department maximum %q, want the five-year ceiling 2031-06-15", v)
	}
	if v, _ := form.Find(`[name=language] option[selected]`).Attr("value"); v != "en" {
		t.Errorf("default letter language %q", v)
	}
	if form.Find(`input[name=study]`).Length() != 2 {
		t.Error("the selection is not carried in the form")
	}
	if !strings.Contains(doc.Find(`[data-testid=patient-name]`).Text(), "Łukasik, Zoë") {
		t.Error("the patient is not shown")
	}
}

func TestPrintDefaultLanguageIsTheUsersDisplayLanguage(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "nl")
	doc := f.OpenForm(t)
	if v, _ := doc.Find(`[name=language] option[selected]`).Attr("value"); v != "nl" {
		t.Errorf("default letter language %q, want nl", v)
	}
	if got := strings.TrimSpace(doc.Find("#print-submit").Text()); got != i18n.T("nl", "print.submit") {
		t.Errorf("submit in Dutch: %q", got)
	}
}

func TestPrintCreatesBucketAuditAndConfirmation(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	form := f.ValidForm()
	form.Set("message", "Bring your card, s’il vous plaît")
	id := f.Print(t, form)
	ctx := context.Background()

	b := new(database.Bucket)
	if err := f.Srv.DB.NewSelect().Model(b).Where("id = ?", id).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Verification != "sms" || b.Destination != "+32470123489" || b.Scope != "images_report" || b.Language != "en" ||
		b.ValidUntil.Format("2006-01-02") != "2026-07-15" || b.Reason != "Patient asked for the images" || b.State != "active" ||
		b.Failures != 0 || b.CreatedBy != f.User.ID || b.DepartmentID != f.Dept.ID || b.PatientID != f.Studies[0].PatientID ||
		b.Anonymized || b.AnonNumber != "" || b.Message != "Bring your card, s’il vous plaît" {
		t.Fatalf("bucket stored wrongly: %+v", b)
	}
	if n := f.Srv.Count(t, `SELECT count(*) FROM bucket_studies WHERE bucket_id = ?`, id); n != 2 {
		t.Fatalf("%d bucket studies, want 2", n)
	}

	res, page := f.C.Get("/staff/print/" + strconv.FormatInt(id, 10))
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("confirmation: %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	doc := testserver.Doc(t, page)
	shown := strings.TrimSpace(doc.Find(`[data-testid=refnum]`).Text())
	n, err := refnum.Parse(shown)
	if err != nil {
		t.Fatalf("confirmation shows %q: %v", shown, err)
	}
	if !bytes.Equal(refnum.Hash(f.Srv.Config.SecretKey, n), b.RefHash) {
		t.Fatal("the stored hash is not the HMAC of the shown number")
	}
	for _, w := range []string{"PRINT THIS INFORMATION", "COPY THIS INFORMATION", "PRINT AGAIN"} {
		if !strings.Contains(doc.Text(), w) {
			t.Errorf("confirmation lacks %q", w)
		}
	}
	if !strings.Contains(doc.Find("#copy-text").Text(), n.Grouped()) || !strings.Contains(doc.Find("#copy-text").Text(), "15 July 2026") {
		t.Errorf("copy text lacks number or validity: %q", doc.Find("#copy-text").Text())
	}
	again, _ := doc.Find("#print-again").Attr("href")
	if again != "/staff/print?"+testserver.StudyQuery(f.Studies[1], f.Studies[0]) {
		t.Errorf("PRINT AGAIN goes to %q", again)
	}

	// The audit event: action print, with the reason, never the number.
	var details string
	var bucketID int64
	if err := f.Srv.DB.QueryRowContext(ctx, `SELECT details::text, bucket_id FROM audit_events WHERE action = 'bucket.print'`).Scan(&details, &bucketID); err != nil {
		t.Fatal(err)
	}
	if bucketID != id || !strings.Contains(details, "Patient asked for the images") {
		t.Errorf("audit event: bucket %d, details %s", bucketID, details)
	}
	// No plaintext number at rest anywhere: buckets, audit, sessions (sealed).
	for _, q := range []string{`SELECT count(*) FROM audit_events WHERE details::text LIKE ?`,
		`SELECT count(*) FROM buckets WHERE encode(ref_hash, 'escape') LIKE ? OR reason LIKE ? OR message LIKE ?`,
		`SELECT count(*) FROM sessions WHERE encode(data, 'escape') LIKE ?`} {
		args := []any{"%" + n.Canonical() + "%"}
		if strings.Count(q, "?") == 3 {
			args = []any{args[0], args[0], args[0]}
		}
		if c := f.Srv.Count(t, q, args...); c != 0 {
			t.Errorf("plaintext number found at rest: %s", q)
		}
	}
}

// TestPrintValidationRules checks each rule on its own: 422, the message next
// to its field, in two languages, and nothing stored.
func TestPrintValidationRules(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		name   string
		change func(*testing.T, url.Values, *testserver.PrintFixture)
		field  string
		key    string
		args   []any
	}{
		{"verification missing", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Del("verification") }, "verification", "print.error.verification", nil},
		{"verification unknown", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("verification", "fax") }, "verification", "print.error.verification", nil},
		{"sms prefix not offered", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("sms_region", "XX") }, "sms_region", "print.error.region", nil},
		{"sms number missing", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("phone", "") }, "phone", "print.error.phone.required", nil},
		{"sms number is a landline", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("phone", "02 555 12 34") }, "phone", "print.error.phone.invalid", []any{"Prefix", "+32", "Region", "BE"}},
		{"sms number of another country", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("phone", "+31 6 12345678") }, "phone", "print.error.phone.invalid", []any{"Prefix", "+32", "Region", "BE"}},
		{"sms number garbage", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("phone", "call me maybe") }, "phone", "print.error.phone.invalid", []any{"Prefix", "+32", "Region", "BE"}},
		{"email missing", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("verification", "email") }, "email", "print.error.email.required", nil},
		{"email invalid", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) {
			v.Set("verification", "email")
			v.Set("email", "zoe@localhost")
		}, "email", "print.error.email.invalid", nil},
		{"email with display name", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) {
			v.Set("verification", "email")
			v.Set("email", "Zoë <zoe@example.org>")
		}, "email", "print.error.email.invalid", nil},
		{"scope missing", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Del("scope") }, "scope", "print.error.scope", nil},
		{"reason missing", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Del("reason") }, "reason", "print.error.reason.short", []any{"Min", 3}},
		{"reason too short", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("reason", "  ab ") }, "reason", "print.error.reason.short", []any{"Min", 3}},
		{"reason too long", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("reason", long(501)) }, "reason", "print.error.reason.long", []any{"Max", 500}},
		{"language unknown", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("language", "es") }, "language", "print.error.language", nil},
		{"validity not a date", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("valid_until", "15/07/2026") }, "valid_until", "print.error.valid.format", nil},
		{"validity today", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("valid_until", "2026-06-15") }, "valid_until", "print.error.valid.past", nil},
		{"validity in the past", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("valid_until", "2025-01-01") }, "valid_until", "print.error.valid.past", nil},
		{"patient did not agree", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Del("agreed") }, "agreed", "print.error.agreed", nil},
		{"emoji in the message", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("message", "Get well 😀") }, "message", "letterfix.unprintable", []any{"Char", "😀"}},
		{"math letter in the message", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("message", "𝐀 bold") }, "message", "letterfix.unprintable", []any{"Char", "𝐀"}},
		{"label missing", func(t *testing.T, v url.Values, f *testserver.PrintFixture) {
			v.Set("add_label", "1")
			v.Set("label_for", "u:"+strconv.FormatInt(f.User.ID, 10))
		}, "label", "print.error.label", nil},
		{"label of another department", func(t *testing.T, v url.Values, f *testserver.PrintFixture) {
			other := testserver.MustDepartment(t, f.Srv.DB, "SOUTH")
			l := &database.Label{DepartmentID: other.ID, Name: "Theirs", Color: "#5b7db1"}
			if _, err := f.Srv.DB.NewInsert().Model(l).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			v.Set("add_label", "1")
			v.Set("label", strconv.FormatInt(l.ID, 10))
			v.Set("label_for", "u:"+strconv.FormatInt(f.User.ID, 10))
		}, "label", "print.error.label", nil},
		{"label target missing", func(t *testing.T, v url.Values, f *testserver.PrintFixture) {
			l := &database.Label{DepartmentID: f.Dept.ID, Name: "Ours", Color: "#5b7db1"}
			if _, err := f.Srv.DB.NewInsert().Model(l).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			v.Set("add_label", "1")
			v.Set("label", strconv.FormatInt(l.ID, 10))
		}, "label_for", "print.error.labelfor", nil},
		{"label target in another department", func(t *testing.T, v url.Values, f *testserver.PrintFixture) {
			other := testserver.MustDepartment(t, f.Srv.DB, "EAST")
			ou := testserver.MustUser(t, f.Srv.DB, "bob", database.RoleStaff, other)
			l := &database.Label{DepartmentID: f.Dept.ID, Name: "Mine", Color: "#5b7db1"}
			if _, err := f.Srv.DB.NewInsert().Model(l).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			v.Set("label", strconv.FormatInt(l.ID, 10))
			v.Set("add_label", "1")
			v.Set("label_for", "u:"+strconv.FormatInt(ou.ID, 10))
		}, "label_for", "print.error.labelfor", nil},
		{"message too long", func(t *testing.T, v url.Values, _ *testserver.PrintFixture) { v.Set("message", long(1001)) }, "message", "print.error.message", []any{"Max", 1000}},
	}
	for _, lang := range []string{"en", "fr"} {
		lang := lang
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			f := testserver.NewPrintFixture(t, lang)
			f.OpenForm(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					form := f.ValidForm()
					tc.change(t, form, f)
					for _, htmx := range []bool{false, true} {
						var hdr []string
						if htmx {
							hdr = []string{"HX-Request", "true"}
						}
						res, body := f.C.PostForm("/staff/print", form, hdr...)
						if res.StatusCode != http.StatusUnprocessableEntity {
							t.Fatalf("status %d, want 422\n%s", res.StatusCode, body)
						}
						doc := testserver.Doc(t, body)
						if htmx && doc.Find("html body header").Length() != 0 {
							t.Error("htmx got the whole page instead of the form")
						}
						if !htmx && doc.Find("header.topbar").Length() == 0 {
							t.Error("no-JS got a fragment instead of the page")
						}
						got := strings.TrimSpace(doc.Find(`[data-error="` + tc.field + `"]`).Text())
						want := i18n.T(lang, tc.key, tc.args...)
						if got != want {
							t.Fatalf("field %s says %q, want %q", tc.field, got, want)
						}
						if want == tc.key {
							t.Fatalf("message %s missing in %s", tc.key, lang)
						}
						if n := doc.Find(".field-error").Length(); n != 1 {
							t.Errorf("%d field errors, want exactly 1", n)
						}
						if c := f.Srv.Count(t, `SELECT count(*) FROM buckets`); c != 0 {
							t.Fatalf("%d buckets stored after a validation error", c)
						}
					}
				})
			}
		})
	}
}

func TestPrintAnonymizeAndReportNote(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	form := f.ValidForm()
	form.Set("anonymize", "1")
	form.Del("agreed") // a 422 round trip shows the note server-side
	_, body := f.C.PostForm("/staff/print", form)
	note := testserver.Doc(t, body).Find(`[data-testid=anon-note]`)
	if _, hidden := note.Attr("hidden"); hidden || !strings.Contains(note.Text(), "never accessible") {
		t.Fatalf("anonymize + images and report: the form does not say the report is never accessible")
	}
	form.Set("agreed", "1")
	id := f.Print(t, form)
	b := new(database.Bucket)
	if err := f.Srv.DB.NewSelect().Model(b).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !b.Anonymized || !regexp.MustCompile(`^\d{6}$`).MatchString(b.AnonNumber) || b.ReportAllowed() {
		t.Fatalf("anonymized bucket: %+v", b)
	}
	doc := f.C.GetDoc("/staff/print/"+strconv.FormatInt(id, 10), http.StatusOK)
	if got := doc.Find(`[data-testid=confirm-patient]`).Text(); strings.Contains(got, "Łukasik") || !strings.Contains(got, "Anonymized exams") {
		t.Errorf("confirmation patient %q", got)
	}
	if got := doc.Find(`[data-testid=confirm-access]`).Text(); !strings.Contains(got, "not available for anonymized exams") {
		t.Errorf("confirmation access %q", got)
	}
	txt := printLetterText(t, f, id, "en")
	if strings.Contains(txt, "Łukasik") || strings.Contains(txt, "CT thorax") || !strings.Contains(txt, "anonymized exams") {
		t.Errorf("anonymized letter:\n%s", txt)
	}
}

func TestPrintSamePatientRule(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "de")
	bd := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	other := testserver.MustPatientStudy(t, f.Srv.DB, f.Dept, "P002", "Müller", "Jürgen", &bd)
	res, body := f.C.Get("/staff/print?" + testserver.StudyQuery(f.Studies[0], other))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, i18n.T("de", "print.error.patients")) {
		t.Fatalf("GET with two patients: %d\n%s", res.StatusCode, body)
	}
	f.OpenForm(t)
	form := f.ValidForm()
	form.Add("study", strconv.FormatInt(other.ID, 10))
	res, body = f.C.PostForm("/staff/print", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, i18n.T("de", "print.error.patients")) {
		t.Fatalf("POST with two patients: %d", res.StatusCode)
	}
	if c := f.Srv.Count(t, `SELECT count(*) FROM buckets`); c != 0 {
		t.Fatal("a bucket was stored for two patients")
	}
}

func TestPrintNeedsBirthDate(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	s := testserver.MustPatientStudy(t, f.Srv.DB, f.Dept, "P003", "Nowak", "Jan", nil)
	res, body := f.C.Get("/staff/print?" + testserver.StudyQuery(s))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "date of birth of Nowak, Jan is not known") {
		t.Fatalf("missing birth date: %d\n%s", res.StatusCode, body)
	}
}

func TestPrintNoSelection(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	res, body := f.C.Get("/staff/print")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, i18n.T("en", "print.error.noselection")) {
		t.Fatalf("no selection: %d", res.StatusCode)
	}
	many := url.Values{}
	for i := 0; i < 51; i++ {
		many.Add("study", strconv.FormatInt(f.Studies[0].ID, 10))
	}
	if res, body := f.C.Get("/staff/print?" + many.Encode()); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, i18n.T("en", "print.error.toomany", "Max", 50)) {
		t.Fatalf("51 studies: %d", res.StatusCode)
	}
	if res, _ := f.C.Get("/staff/print/999999"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown bucket: %d", res.StatusCode)
	}
	if res, _ := f.C.Get("/staff/print/999999/letter"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown bucket letter: %d", res.StatusCode)
	}
	if res, _ := f.C.Get("/staff/print?study=abc"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("bad id: %d", res.StatusCode)
	}
	if res, _ := f.C.Get("/staff/print?study=999999"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown id: %d", res.StatusCode)
	}
}

func TestPrintDepartmentScoping(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	south := testserver.MustDepartment(t, f.Srv.DB, "SOUTH")
	bd := time.Date(1980, 5, 5, 0, 0, 0, 0, time.UTC)
	theirs := testserver.MustPatientStudy(t, f.Srv.DB, south, "S001", "Dubois", "Marie", &bd)

	if res, _ := f.C.Get("/staff/print?" + testserver.StudyQuery(theirs)); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET another department's study: %d, want 404", res.StatusCode)
	}
	f.OpenForm(t)
	form := f.ValidForm()
	form.Del("study")
	form.Add("study", strconv.FormatInt(theirs.ID, 10))
	if res, _ := f.C.PostForm("/staff/print", form); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST another department's study: %d, want 404", res.StatusCode)
	}
	// A bucket of our department is invisible to a south staff member, and its letter too.
	id := f.Print(t, f.ValidForm())
	testserver.MustUser(t, f.Srv.DB, "sam", database.RoleStaff, south)
	sc := f.Srv.Client(t)
	sc.SignIn("sam", testserver.Password)
	for _, p := range []string{"", "/letter"} {
		if res, _ := sc.Get("/staff/print/" + strconv.FormatInt(id, 10) + p); res.StatusCode != http.StatusNotFound {
			t.Errorf("south sees bucket%s: %d", p, res.StatusCode)
		}
	}
	// The service desk prints for any department.
	testserver.MustUser(t, f.Srv.DB, "desk", database.RoleServiceDesk, nil)
	dc := f.Srv.Client(t)
	dc.SignIn("desk", testserver.Password)
	dc.GetDoc("/staff/print?"+testserver.StudyQuery(theirs), http.StatusOK)
	form.Set("reason", "Support request")
	form.Del("_csrf") // the desk's own token
	res, body := dc.PostForm("/staff/print", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("service desk print: %d\n%s", res.StatusCode, body)
	}
	if c := f.Srv.Count(t, `SELECT count(*) FROM buckets WHERE department_id = ?`, south.ID); c != 1 {
		t.Fatalf("service desk bucket not in the study's department")
	}
}

// TestPrintIsAtomic makes the audit insert fail: nothing of the print may remain.
func TestPrintIsAtomic(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	l := &database.Label{DepartmentID: f.Dept.ID, Name: "Follow-up", Color: "#5b7db1"}
	if _, err := f.Srv.DB.NewInsert().Model(l).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Srv.Exec(t, `CREATE FUNCTION fail_print_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.action = 'bucket.print' THEN RAISE EXCEPTION 'audit down'; END IF; RETURN NEW; END $$`)
	f.Srv.Exec(t, `CREATE TRIGGER fail_print_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION fail_print_audit()`)
	f.OpenForm(t)
	form := f.ValidForm()
	form.Set("add_label", "1")
	form.Set("label", strconv.FormatInt(l.ID, 10))
	form.Set("label_for", "u:"+strconv.FormatInt(f.User.ID, 10))
	res, body := f.C.PostForm("/staff/print", form)
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", res.StatusCode)
	}
	if strings.Contains(body, "audit down") {
		t.Error("internal error text shown to the user")
	}
	for _, tbl := range []string{"buckets", "bucket_studies", "study_labels", "user_print_prefs"} {
		if c := f.Srv.Count(t, `SELECT count(*) FROM `+tbl); c != 0 {
			t.Errorf("%d rows left in %s", c, tbl)
		}
	}
	// With the audit working again, the same print goes through with its label.
	f.Srv.Exec(t, `DROP TRIGGER fail_print_audit ON audit_events`)
	f.Print(t, form)
	if c := f.Srv.Count(t, `SELECT count(*) FROM study_labels WHERE label_id = ? AND user_id = ?`, l.ID, f.User.ID); c != 2 {
		t.Errorf("%d labels set, want one per study", c)
	}
}

func TestPrintStickyValues(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	form := f.ValidForm()
	form.Set("sms_region", "NL")
	form.Set("phone", "06 12345678")
	form.Set("language", "de")
	f.Print(t, form)
	doc := f.OpenForm(t)
	checked := func(doc *goquery.Document, sel string) string { v, _ := doc.Find(sel).Attr("value"); return v }
	if v := checked(doc, `[name=verification][checked]`); v != "sms" {
		t.Errorf("sticky verification %q", v)
	}
	if v := checked(doc, `[name=sms_region] option[selected]`); v != "NL" {
		t.Errorf("sticky SMS prefix %q", v)
	}
	if v := checked(doc, `[name=language] option[selected]`); v != "de" {
		t.Errorf("sticky language %q", v)
	}
	// Not sticky: reason, phone, patient agreed.
	if doc.Find(`[name=reason]`).Text() != "" || checked(doc, `[name=phone]`) != "" || doc.Find(`[name=agreed][checked]`).Length() != 0 {
		t.Error("non-sticky values were preset")
	}
	// A date-of-birth print keeps the last SMS prefix for next time.
	form = f.ValidForm()
	form.Set("verification", "dob")
	form.Set("language", "fr")
	form.Del("sms_region")
	f.Print(t, form)
	doc = f.OpenForm(t)
	if checked(doc, `[name=verification][checked]`) != "dob" || checked(doc, `[name=sms_region] option[selected]`) != "NL" || checked(doc, `[name=language] option[selected]`) != "fr" {
		t.Error("sticky values after a dob print")
	}
	// Sticky per user: another user of the department starts from the defaults.
	testserver.MustUser(t, f.Srv.DB, "ben", database.RoleStaff, f.Dept)
	bc := f.Srv.Client(t)
	bc.SignIn("ben", testserver.Password)
	doc = bc.GetDoc("/staff/print?"+testserver.StudyQuery(f.Studies...), http.StatusOK)
	if checked(doc, `[name=verification][checked]`) != "sms" || checked(doc, `[name=language] option[selected]`) != "en" {
		t.Error("another user's sticky values leaked")
	}
}

func TestPrintDepartmentMaximum(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "nl")
	f.Srv.Exec(t, `UPDATE departments SET default_validity_n = 3, default_validity_unit = 'month', max_validity_n = 2, max_validity_unit = 'week' WHERE id = ?`, f.Dept.ID)
	doc := f.OpenForm(t)
	in := doc.Find(`[name=valid_until]`)
	if v, _ := in.Attr("max"); v != "2026-06-29" {
		t.Errorf("max %q, want 2026-06-29", v)
	}
	if v, _ := in.Attr("value"); v != "2026-06-29" {
		t.Errorf("default %q beyond the maximum, want it capped at 2026-06-29", v)
	}
	form := f.ValidForm()
	form.Set("valid_until", "2026-06-30")
	res, body := f.C.PostForm("/staff/print", form)
	want := i18n.T("nl", "print.error.valid.max", "Date", "29 juni 2026")
	if res.StatusCode != http.StatusUnprocessableEntity || strings.TrimSpace(testserver.Doc(t, body).Find(`[data-error=valid_until]`).Text()) != want {
		t.Fatalf("beyond max: %d", res.StatusCode)
	}
	form.Set("valid_until", "2026-06-29")
	f.Print(t, form)
}

func TestPrintDefaultValidityUnits(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	for _, tc := range []struct {
		n    int
		unit string
		want string
	}{{10, "day", "2026-06-25"}, {2, "week", "2026-06-29"}, {1, "month", "2026-07-15"}, {1, "year", "2027-06-15"}} {
		f.Srv.Exec(t, `UPDATE departments SET default_validity_n = ?, default_validity_unit = ? WHERE id = ?`, tc.n, tc.unit, f.Dept.ID)
		if v, _ := f.OpenForm(t).Find(`[name=valid_until]`).Attr("value"); v != tc.want {
			t.Errorf("%d %s: default %q, want %q", tc.n, tc.unit, v, tc.want)
		}
	}
}

func printLetterText(t *testing.T, f *testserver.PrintFixture, id int64, lang string) string {
	t.Helper()
	res, body := f.C.Get("/staff/print/" + strconv.FormatInt(id, 10) + "/letter?lang=" + lang)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("letter: %d\n%s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Fatalf("letter Content-Type %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("letter Cache-Control %q", cc)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "inline") {
		t.Errorf("letter Content-Disposition %q", cd)
	}
	p := filepath.Join(t.TempDir(), "l.pdf")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := osexec.Command("pdftotext", "-enc", "UTF-8", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestPrintLetterSameNumberOtherLanguage(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	id := f.Print(t, f.ValidForm())
	doc := f.C.GetDoc("/staff/print/"+strconv.FormatInt(id, 10), http.StatusOK)
	ref := strings.TrimSpace(doc.Find(`[data-testid=refnum]`).Text())
	for lang, want := range map[string]string{"en": "Your reference number", "fr": "Votre numéro de référence", "nl": "Uw referentienummer", "de": "Ihre Referenznummer"} {
		txt := printLetterText(t, f, id, lang)
		if !strings.Contains(txt, ref) || !strings.Contains(txt, want) || !strings.Contains(txt, "Łukasik, Zoë") {
			t.Errorf("letter in %s lacks the number, %q or the name:\n%s", lang, want, txt)
		}
	}
	if c := f.Srv.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'bucket.letter' AND bucket_id = ?`, id); c != 4 {
		t.Errorf("%d letter prints audited, want 4", c)
	}
	// Another session (even the same user) cannot recover the number.
	c2 := f.Srv.Client(t)
	c2.SignIn("ann", testserver.Password)
	d2 := c2.GetDoc("/staff/print/"+strconv.FormatInt(id, 10), http.StatusOK)
	if d2.Find(`[data-testid=refnum]`).Length() != 0 || d2.Find(`[data-testid=ref-gone]`).Length() != 1 {
		t.Error("another session sees the reference number")
	}
	if res, _ := c2.Get("/staff/print/" + strconv.FormatInt(id, 10) + "/letter"); res.StatusCode != http.StatusNotFound {
		t.Errorf("another session printed the letter: %d", res.StatusCode)
	}
	if res, _ := f.C.Get("/staff/print/" + strconv.FormatInt(id, 10) + "/letter?lang=xx"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown letter language: %d", res.StatusCode)
	}
}

func TestPrintAgainMakesANewNumber(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	id1 := f.Print(t, f.ValidForm())
	r1 := strings.TrimSpace(f.C.GetDoc("/staff/print/"+strconv.FormatInt(id1, 10), http.StatusOK).Find(`[data-testid=refnum]`).Text())
	id2 := f.Print(t, f.ValidForm())
	if id1 == id2 {
		t.Fatal("same bucket twice")
	}
	r2 := strings.TrimSpace(f.C.GetDoc("/staff/print/"+strconv.FormatInt(id2, 10), http.StatusOK).Find(`[data-testid=refnum]`).Text())
	if r1 == "" || r1 == r2 {
		t.Fatalf("PRINT AGAIN reused the number: %q %q", r1, r2)
	}
}

func TestPrintNeedsCSRFAndSignIn(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	form := f.ValidForm()
	form.Set("_csrf", "forged")
	if res, _ := f.C.PostForm("/staff/print", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", res.StatusCode)
	}
	anon := f.Srv.Client(t)
	if res, _ := anon.Get("/staff/print?" + testserver.StudyQuery(f.Studies...)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous GET: %d", res.StatusCode)
	}
	if c := f.Srv.Count(t, `SELECT count(*) FROM buckets`); c != 0 {
		t.Error("bucket stored without CSRF")
	}
}

func TestPrintImmediatelyLinksTheLetter(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	form := f.ValidForm()
	form.Set("print_now", "1")
	form.Set("language", "nl")
	f.OpenForm(t)
	res, body := f.C.PostForm("/staff/print", form, "HX-Request", "true")
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("htmx print: %d\n%s", res.StatusCode, body)
	}
	to := res.Header.Get("HX-Redirect")
	if !strings.HasSuffix(to, "?open=1") {
		t.Fatalf("HX-Redirect %q does not ask to open the letter", to)
	}
	doc := f.C.GetDoc(to, http.StatusOK)
	link := doc.Find(`a[data-autoopen][data-testid=letter-link]`)
	href, _ := link.Attr("href")
	target, _ := link.Attr("target")
	if !regexp.MustCompile(`^/staff/print/\d+/letter\?lang=nl$`).MatchString(href) || target == "" || target == "_self" {
		t.Fatalf("letter link %q target %q", href, target)
	}
	// Without Print immediately, only the confirmation: no auto-open link.
	form.Del("print_now")
	id := f.Print(t, form)
	if f.C.GetDoc("/staff/print/"+strconv.FormatInt(id, 10), http.StatusOK).Find(`a[data-autoopen]`).Length() != 0 {
		t.Error("the letter opens without Print immediately")
	}
}
