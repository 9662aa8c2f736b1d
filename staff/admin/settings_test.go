package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/staff/admin"
)

func validSettings() url.Values {
	return url.Values{
		"name": {"Radiologie Zuid"}, "address": {"Kerkstraat 1, 9000 Gent"}, "phone": {"+32 9 123 45 67"},
		"email": {"radiologie@example.org"}, "contact": {"het secretariaat"},
		"default_n": {"2"}, "default_unit": {"week"}, "max_n": {"3"}, "max_unit": {"month"},
	}
}

func loadDept(t *testing.T, srv *testserver.Server, id int64) *database.Department {
	t.Helper()
	d := new(database.Department)
	if err := srv.DB.NewSelect().Model(d).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSettingsSaveWithAudit(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "nils", database.RoleAdmin, d)
	doc := c.GetDoc("/staff/settings", http.StatusOK)
	if v := doc.Find(`input[name="name"]`).AttrOr("value", ""); v != d.Name {
		t.Fatalf("form shows name %q, want %q", v, d.Name)
	}
	if _, ok := doc.Find(`select[name="default_unit"] option[value="month"]`).Attr("selected"); !ok {
		t.Error("default unit not preselected")
	}
	res, body := c.PostForm("/staff/settings", validSettings())
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/settings?saved=1" {
		t.Fatalf("save: status %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	got := loadDept(t, srv, d.ID)
	if got.Name != "Radiologie Zuid" || got.Phone != "+32 9 123 45 67" || got.Email != "radiologie@example.org" ||
		got.DefaultValidityN != 2 || got.DefaultValidityUnit != "week" ||
		got.MaxValidityN == nil || *got.MaxValidityN != 3 || *got.MaxValidityUnit != "month" {
		t.Fatalf("stored %+v", got)
	}
	if n := auditCount(t, srv, admin.AuditSettings, "nils"); n != 1 {
		t.Fatalf("%d audit events, want 1", n)
	}
	var details string
	err := srv.DB.NewSelect().Table("audit_events").Column("details").Where("action = ?", admin.AuditSettings).Scan(context.Background(), &details)
	if err != nil || !strings.Contains(details, `"max_validity"`) || !strings.Contains(details, "3 month") {
		t.Fatalf("audit details %s (%v)", details, err)
	}
	doc = c.GetDoc("/staff/settings?saved=1", http.StatusOK)
	if doc.Find(`[data-testid="settings-saved"]`).Length() != 1 {
		t.Error("no saved confirmation")
	}
	// Removing the maximum.
	form := validSettings()
	form.Set("max_n", "")
	form.Set("max_unit", "")
	if res, _ := c.PostForm("/staff/settings", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear maximum: status %d", res.StatusCode)
	}
	if got := loadDept(t, srv, d.ID); got.MaxValidityN != nil || got.MaxValidityUnit != nil {
		t.Fatal("maximum not cleared")
	}
}

// One case per rule; each message is checked in English and Dutch, and
// nothing is stored.
func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u, c := srv.SignedIn(t, "nils", database.RoleAdmin, d)
	cases := []struct {
		name, field, key string
		args             []any
		set              map[string]string
	}{
		{"name required", "name", "settings.error.name.required", nil, map[string]string{"name": "  "}},
		{"name too long", "name", "settings.error.toolong", []any{"Max", 200}, map[string]string{"name": strings.Repeat("é", 201)}},
		{"address too long", "address", "settings.error.toolong", []any{"Max", 300}, map[string]string{"address": strings.Repeat("a", 301)}},
		{"phone characters", "phone", "settings.error.phone", nil, map[string]string{"phone": "call me maybe"}},
		{"phone too long", "phone", "settings.error.phone", nil, map[string]string{"phone": strings.Repeat("1", 41)}},
		{"email", "email", "settings.error.email", nil, map[string]string{"email": "not-an-address"}},
		{"email with a name", "email", "settings.error.email", nil, map[string]string{"email": "Desk <desk@example.org>"}},
		{"contact too long", "contact", "settings.error.toolong", []any{"Max", 300}, map[string]string{"contact": strings.Repeat("b", 301)}},
		// Issue 9 item 3: one emoji in the settings broke every letter.
		{"emoji in contact", "contact", "letterfix.unprintable", []any{"Char", "😀"}, map[string]string{"contact": "the desk 😀"}},
		{"math letter in name", "name", "letterfix.unprintable", []any{"Char", "𝐀"}, map[string]string{"name": "𝐀 Radiology"}},
		{"no glyph in address", "address", "letterfix.unprintable", []any{"Char", "王"}, map[string]string{"address": "Street 1, 王"}},
		{"control in address", "address", "letterfix.unprintable", []any{"Char", "U+0007"}, map[string]string{"address": "Street\a 1"}},
		// A line break in the name or contact split the SMS text and the letter line.
		{"line break in name", "name", "settings.error.singleline", nil, map[string]string{"name": "North\nYour code is 000000"}},
		{"line break in contact", "contact", "settings.error.singleline", nil, map[string]string{"contact": "the desk\r\ncall 0800"}},
		{"line separator in contact", "contact", "settings.error.singleline", nil, map[string]string{"contact": "the desk\u2028call"}},
		{"emoji in email", "email", "letterfix.unprintable", []any{"Char", "😀"}, map[string]string{"email": "desk😀@example.org"}},
		{"default not a number", "default_n", "settings.error.number", nil, map[string]string{"default_n": "two"}},
		{"default zero", "default_n", "settings.error.number", nil, map[string]string{"default_n": "0"}},
		{"default unit", "default_unit", "settings.error.unit", nil, map[string]string{"default_unit": "fortnight"}},
		{"default over five years", "default_n", "settings.error.period.long", nil, map[string]string{"default_n": "61", "default_unit": "month", "max_n": "", "max_unit": ""}},
		{"maximum without unit", "max_n", "settings.error.max.incomplete", nil, map[string]string{"max_unit": ""}},
		{"maximum without number", "max_n", "settings.error.max.incomplete", nil, map[string]string{"max_n": ""}},
		{"maximum negative", "max_n", "settings.error.number", nil, map[string]string{"max_n": "-1"}},
		{"maximum unit", "max_unit", "settings.error.unit", nil, map[string]string{"max_unit": "decade"}},
		{"maximum over five years", "max_n", "settings.error.period.long", nil, map[string]string{"max_n": "6", "max_unit": "year"}},
		{"maximum below default", "max_n", "settings.error.max.belowdefault", nil, map[string]string{"default_n": "2", "default_unit": "month", "max_n": "5", "max_unit": "week"}},
	}
	for _, lang := range []string{"en", "nl"} {
		if _, err := srv.DB.NewUpdate().Model(u).Set("language = ?", lang).WherePK().Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, cs := range cases {
			form := validSettings()
			for k, v := range cs.set {
				form.Set(k, v)
			}
			c.Get("/staff/settings")
			res, body := c.PostForm("/staff/settings", form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s (%s): status %d, want 422", cs.name, lang, res.StatusCode)
				continue
			}
			doc := testserver.Doc(t, body)
			want := i18n.T(lang, cs.key, cs.args...)
			if got := strings.TrimSpace(doc.Find(`[data-field="` + cs.field + `"]`).Text()); got != want {
				t.Errorf("%s (%s): error on %s is %q, want %q", cs.name, lang, cs.field, got, want)
			}
			// The form keeps what was typed.
			if v, ok := cs.set["name"]; ok && doc.Find(`input[name="name"]`).AttrOr("value", "") != strings.TrimSpace(v) {
				t.Errorf("%s: typed name lost", cs.name)
			}
			if got := loadDept(t, srv, d.ID); got.Name != d.Name || got.DefaultValidityUnit != d.DefaultValidityUnit || got.MaxValidityN != nil {
				t.Fatalf("%s: something was stored: %+v", cs.name, got)
			}
		}
	}
	if i18n.T("en", "settings.error.max.belowdefault") == i18n.T("nl", "settings.error.max.belowdefault") {
		t.Fatal("messages are not translated")
	}
	if n := auditCount(t, srv, admin.AuditSettings, "nils"); n != 0 {
		t.Fatalf("%d audit events for refused changes", n)
	}
}

// A failing audit insert rolls the settings change back.
func TestSettingsAtomic(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	testserver.MustUser(t, srv.DB, "nils", database.RoleAdmin, d)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE FUNCTION fail_settings_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN IF NEW.action = 'department.update' THEN RAISE EXCEPTION 'audit down'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER fail_settings_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION fail_settings_audit()`,
	} {
		if _, err := srv.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c := srv.Client(t)
	c.SignIn("nils", testserver.Password)
	c.Get("/staff/settings")
	res, body := c.PostForm("/staff/settings", validSettings())
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", res.StatusCode)
	}
	if strings.Contains(body, "audit down") {
		t.Fatal("internal error text reached the page")
	}
	if got := loadDept(t, srv, d.ID); got.Name != d.Name || got.DefaultValidityUnit != "month" || got.MaxValidityN != nil {
		t.Fatalf("settings stored without their audit event: %+v", got)
	}
}

func TestSettingsAccess(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	a := testserver.MustDepartment(t, srv.DB, "DEPT-A")
	b := testserver.MustDepartment(t, srv.DB, "DEPT-B")
	testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, a)
	testserver.MustUser(t, srv.DB, "adam", database.RoleAdmin, a)
	testserver.MustUser(t, srv.DB, "desk", database.RoleServiceDesk, nil)
	bid := strconv.FormatInt(b.ID, 10)

	staffC := srv.Client(t)
	staffC.SignIn("ann", testserver.Password)
	if res, _ := staffC.Get("/staff/settings"); res.StatusCode != http.StatusForbidden {
		t.Errorf("staff GET settings: %d, want 403", res.StatusCode)
	}
	if res, _ := staffC.PostForm("/staff/settings", validSettings()); res.StatusCode != http.StatusForbidden {
		t.Errorf("staff POST settings: %d, want 403", res.StatusCode)
	}

	// An admin of A asking for B still edits A.
	adminC := srv.Client(t)
	adminC.SignIn("adam", testserver.Password)
	doc := adminC.GetDoc("/staff/settings?department="+bid, http.StatusOK)
	if v := doc.Find(`input[name="name"]`).AttrOr("value", ""); v != a.Name {
		t.Errorf("admin of A shown %q", v)
	}
	form := validSettings()
	form.Set("department", bid)
	if res, _ := adminC.PostForm("/staff/settings", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin save: %d", res.StatusCode)
	}
	if loadDept(t, srv, b.ID).Name != b.Name || loadDept(t, srv, a.ID).Name != "Radiologie Zuid" {
		t.Fatal("admin of A changed B, or not A")
	}

	// The service desk chooses the department.
	deskC := srv.Client(t)
	deskC.SignIn("desk", testserver.Password)
	doc = deskC.GetDoc("/staff/settings?department="+bid, http.StatusOK)
	if v := doc.Find(`input[name="name"]`).AttrOr("value", ""); v != b.Name {
		t.Errorf("service desk shown %q, want %q", v, b.Name)
	}
	form = validSettings()
	form.Set("department", bid)
	form.Set("name", "Radiology B renamed")
	res, _ := deskC.PostForm("/staff/settings", form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/settings?saved=1&department="+bid {
		t.Fatalf("service desk save: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if loadDept(t, srv, b.ID).Name != "Radiology B renamed" {
		t.Fatal("service desk change not stored")
	}
	if res, _ := deskC.Get("/staff/settings?department=987654"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown department: %d, want 404", res.StatusCode)
	}
	// No CSRF token, no change.
	form.Set("_csrf", "forged")
	form.Set("name", "Forged")
	if res, _ := deskC.PostForm("/staff/settings", form); res.StatusCode != http.StatusForbidden {
		t.Errorf("forged CSRF: %d, want 403", res.StatusCode)
	}
	if loadDept(t, srv, b.ID).Name == "Forged" {
		t.Fatal("a forged form changed the settings")
	}
}
