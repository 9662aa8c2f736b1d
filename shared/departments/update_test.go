package departments_test

import (
	"context"
	"testing"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Every rule of the settings puts its problem on its field; a valid form
// passes with the stored values it produces.
func TestSettingsCheck(t *testing.T) {
	d := &database.Department{ID: 1, Name: "Radiology", DefaultValidityN: 1, DefaultValidityUnit: "month",
		SMSPrefixes: []string{"32"}, Verifications: []string{"sms"}}
	ok := func() departments.Settings {
		return departments.Settings{Name: "Radiology A", Phone: "+32 2 000", Email: "desk@example.org",
			DefaultN: "2", DefaultUnit: "week", MaxN: "3", MaxUnit: "month",
			Extra: true, SMSPrefixes: "+32, 0031", SMSSender: "RadPass", Verifications: []string{"dob", "sms"}}
	}
	long := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a'
		}
		return string(b)
	}
	for _, c := range []struct {
		name, field string
		edit        func(*departments.Settings)
	}{
		{"fine", "", func(*departments.Settings) {}},
		{"no maximum", "", func(s *departments.Settings) { s.MaxN, s.MaxUnit = "", "" }},
		{"old client keeps sms", "", func(s *departments.Settings) { s.Extra, s.SMSPrefixes, s.Verifications = false, "", nil }},
		{"no name", "name", func(s *departments.Settings) { s.Name = "" }},
		{"long name", "name", func(s *departments.Settings) { s.Name = long(201) }},
		{"two-line name", "name", func(s *departments.Settings) { s.Name = "A\nB" }},
		{"unprintable contact", "contact", func(s *departments.Settings) { s.Contact = "Dr 王" }},
		{"long address", "address", func(s *departments.Settings) { s.Address = long(301) }},
		{"phone letters", "phone", func(s *departments.Settings) { s.Phone = "call me" }},
		{"email", "email", func(s *departments.Settings) { s.Email = "Desk <desk@example.org>" }},
		{"zero default", "default_n", func(s *departments.Settings) { s.DefaultN = "0" }},
		{"bad unit", "default_unit", func(s *departments.Settings) { s.DefaultUnit = "fortnight" }},
		{"six years", "default_n", func(s *departments.Settings) { s.DefaultN, s.DefaultUnit = "6", "year" }},
		{"half a maximum", "max_n", func(s *departments.Settings) { s.MaxUnit = "" }},
		{"maximum below default", "max_n", func(s *departments.Settings) { s.MaxN, s.MaxUnit = "1", "week" }},
		{"bad prefix", "sms_prefixes", func(s *departments.Settings) { s.SMSPrefixes = "+32, +999" }},
		{"sms without prefixes", "sms_prefixes", func(s *departments.Settings) { s.SMSPrefixes = "" }},
		{"sender", "sms_sender", func(s *departments.Settings) { s.SMSSender = "12345678901A" }},
		{"no verification", "verification", func(s *departments.Settings) { s.Verifications = nil }},
		{"unknown verification", "verification", func(s *departments.Settings) { s.Verifications = []string{"sms", "pin"} }},
	} {
		s := ok()
		c.edit(&s)
		next, bad := s.Check(d)
		switch {
		case c.field == "" && len(bad) != 0:
			t.Errorf("%s: %v", c.name, bad)
		case c.field != "" && !bad.Has(c.field):
			t.Errorf("%s: %v, want a problem on %s", c.name, bad, c.field)
		case c.field == "" && c.name == "fine":
			if next.DefaultValidityN != 2 || *next.MaxValidityUnit != "month" || len(next.SMSPrefixes) != 2 ||
				next.Verifications[0] != "sms" || next.Verifications[1] != "dob" {
				t.Errorf("fine: stored %+v", next)
			}
		case c.name == "old client keeps sms":
			if len(next.SMSPrefixes) != 1 || next.Verifications[0] != "sms" {
				t.Errorf("old client: SMS settings changed: %+v", next)
			}
		}
	}
}

// Update stores the row and its audit event together; bad input stores
// neither.
func TestUpdate(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	d := testserver.MustDepartment(t, db, "UP")
	admin := testserver.MustUser(t, db, "uadmin", database.RoleAdmin, d)
	act := audit.Staff(admin, "127.0.0.1")
	events := func() int {
		n, err := db.NewSelect().Table("audit_events").Where("action = ? AND department_id = ?", audit.SettingsUpdate, d.ID).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	s := departments.SettingsOf(d)
	s.Name, s.Verifications = "", []string{"dob"}
	_, err := departments.Update(ctx, db, act, d, s)
	if v, ok := apperr.AsFields(err); !ok || !v.Has("name") {
		t.Fatalf("empty name: %v", err)
	}
	if got, _ := departments.Get(ctx, db, d.ID); got.Name != d.Name || events() != 0 {
		t.Fatalf("bad input stored: %q, %d events", got.Name, events())
	}
	s.Name = "Radiology Renamed"
	if _, err := departments.Update(ctx, db, act, d, s); err != nil {
		t.Fatal(err)
	}
	got, err := departments.Get(ctx, db, d.ID)
	if err != nil || got.Name != "Radiology Renamed" || events() != 1 {
		t.Fatalf("stored %v (%v), %d events", got, err, events())
	}
	var e audit.Event
	if err := db.NewSelect().Model(&e).Where("action = ? AND department_id = ?", audit.SettingsUpdate, d.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	ch, _ := e.Details["changed"].(map[string]any)
	if e.ActorKind != audit.KindStaff || e.ActorName != "uadmin" || ch["name"] == nil || ch["phone"] != nil {
		t.Fatalf("audit event %+v", e)
	}
	// Get of a department that does not exist is NotFound (the settings page's 404).
	if _, err := departments.Get(ctx, db, d.ID+1000); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("missing department: %v", err)
	}
}
