package buckets_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/letter"
)

// Every rule of a print, one case each: the field it marks and the message
// key a form or an API shows; a good form becomes the request Create stores.
func TestPrintFormCheck(t *testing.T) {
	today := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	three, months := 3, "month"
	dept := &database.Department{
		Verifications: []string{database.VerifySMS, database.VerifyEmail, database.VerifyDOB},
		SMSPrefixes:   []string{"32", "31"}, // Belgium and the Netherlands
		MaxValidityN:  &three, MaxValidityUnit: &months,
	}
	noEmail := &database.Department{Verifications: []string{database.VerifySMS, database.VerifyDOB}}
	ch := buckets.PrintChoices{
		Labels: []database.Label{{ID: 7}},
		Users:  []database.User{{ID: 11}},
		Groups: []database.Group{{ID: 21}},
	}
	good := func() buckets.PrintForm {
		return buckets.PrintForm{
			Verification: database.VerifySMS, SMSRegion: "be", Phone: " 0470 12 34 89 ", Scope: database.ScopeImages,
			Reason: "second opinion", Language: "nl", ValidUntil: "2026-07-15", Agreed: true,
			Message: "Bring this letter.\r\nThank you.", FormToken: "tok-0123456789abcdef",
		}
	}
	cases := []struct {
		name  string
		dept  *database.Department
		edit  func(*buckets.PrintForm)
		field string
		key   string
		args  []any
	}{
		{"verification missing", dept, func(f *buckets.PrintForm) { f.Verification = "" }, "verification", "print.error.verification", nil},
		{"verification unknown", dept, func(f *buckets.PrintForm) { f.Verification = "fax" }, "verification", "print.error.verification", nil},
		{"verification the department does not offer", noEmail, func(f *buckets.PrintForm) { f.Verification, f.Email = database.VerifyEmail, "zoe@example.org" }, "verification", "print.error.verification", nil},
		{"region RadPass does not send to", dept, func(f *buckets.PrintForm) { f.SMSRegion = "US" }, "sms_region", "print.error.region", nil},
		{"region the department does not allow", dept, func(f *buckets.PrintForm) { f.SMSRegion, f.Phone = "DE", "0151 23456789" }, "sms_region", "print.error.region", nil},
		{"phone missing", dept, func(f *buckets.PrintForm) { f.Phone = " " }, "phone", "print.error.phone.required", nil},
		{"phone a landline", dept, func(f *buckets.PrintForm) { f.Phone = "02 555 12 34" }, "phone", "print.error.phone.invalid", []any{"Prefix", "+32", "Region", "BE"}},
		{"phone of another country", dept, func(f *buckets.PrintForm) { f.SMSRegion, f.Phone = "NL", "0470 12 34 89" }, "phone", "print.error.phone.invalid", []any{"Prefix", "+31", "Region", "NL"}},
		{"email missing", dept, func(f *buckets.PrintForm) { f.Verification = database.VerifyEmail }, "email", "print.error.email.required", nil},
		{"email invalid", dept, func(f *buckets.PrintForm) { f.Verification, f.Email = database.VerifyEmail, "Zoë <zoe@example.org>" }, "email", "print.error.email.invalid", nil},
		{"scope missing", dept, func(f *buckets.PrintForm) { f.Scope = "" }, "scope", "print.error.scope", nil},
		{"scope unknown", dept, func(f *buckets.PrintForm) { f.Scope = "report" }, "scope", "print.error.scope", nil},
		{"reason short", dept, func(f *buckets.PrintForm) { f.Reason = " ab " }, "reason", "print.error.reason.short", []any{"Min", buckets.ReasonMin}},
		{"reason long", dept, func(f *buckets.PrintForm) { f.Reason = strings.Repeat("é", buckets.ReasonMax+1) }, "reason", "print.error.reason.long", []any{"Max", buckets.ReasonMax}},
		{"language unknown", dept, func(f *buckets.PrintForm) { f.Language = "xx" }, "language", "print.error.language", nil},
		{"validity not a date", dept, func(f *buckets.PrintForm) { f.ValidUntil = "15/07/2026" }, "valid_until", "print.error.valid.format", nil},
		{"validity today", dept, func(f *buckets.PrintForm) { f.ValidUntil = "2026-06-15" }, "valid_until", "print.error.valid.past", nil},
		{"validity past the department maximum", dept, func(f *buckets.PrintForm) { f.ValidUntil = "2026-09-16" }, "valid_until", "print.error.valid.max", []any{"Date", time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC)}},
		{"validity past the ceiling", noEmail, func(f *buckets.PrintForm) { f.ValidUntil = "2031-06-16" }, "valid_until", "print.error.valid.max", []any{"Date", time.Date(2031, 6, 15, 0, 0, 0, 0, time.UTC)}},
		{"no consent", dept, func(f *buckets.PrintForm) { f.Agreed = false }, "agreed", "print.error.agreed", nil},
		{"label of another department", dept, func(f *buckets.PrintForm) { f.AddLabel, f.LabelID, f.LabelFor = true, "8", "u:11" }, "label", "print.error.label", nil},
		{"label not a number", dept, func(f *buckets.PrintForm) { f.AddLabel, f.LabelID, f.LabelFor = true, "seven", "u:11" }, "label", "print.error.label", nil},
		{"label for a user of another department", dept, func(f *buckets.PrintForm) { f.AddLabel, f.LabelID, f.LabelFor = true, "7", "u:12" }, "label_for", "print.error.labelfor", nil},
		{"label for a group of another department", dept, func(f *buckets.PrintForm) { f.AddLabel, f.LabelID, f.LabelFor = true, "7", "g:11" }, "label_for", "print.error.labelfor", nil},
		{"label for nobody", dept, func(f *buckets.PrintForm) { f.AddLabel, f.LabelID, f.LabelFor = true, "7", "" }, "label_for", "print.error.labelfor", nil},
		{"message long", dept, func(f *buckets.PrintForm) { f.Message = strings.Repeat("a", buckets.MessageMax+1) }, "message", "print.error.message", []any{"Max", buckets.MessageMax}},
		{"message the letter cannot print", dept, func(f *buckets.PrintForm) { f.Message = "see you \U0001F600" }, "message", letter.UnprintableKey, []any{"Char", letter.CharLabel('\U0001F600')}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := good()
			c.edit(&f)
			r, errs := f.Check(today, c.dept, ch)
			if r != nil || len(errs) != 1 {
				t.Fatalf("got request %+v, errors %+v; want exactly one error", r, errs)
			}
			want := buckets.FieldError{Field: c.field, Key: c.key, Args: c.args}
			if !reflect.DeepEqual(errs[0], want) {
				t.Fatalf("got %+v, want %+v", errs[0], want)
			}
		})
	}

	t.Run("every failure at once", func(t *testing.T) {
		_, errs := buckets.PrintForm{AddLabel: true}.Check(today, dept, ch)
		var fields []string
		for _, e := range errs {
			fields = append(fields, e.Field)
		}
		want := []string{"verification", "scope", "reason", "language", "valid_until", "agreed", "label", "label_for"}
		if !reflect.DeepEqual(fields, want) {
			t.Fatalf("fields %v, want %v", fields, want)
		}
	})

	t.Run("good forms", func(t *testing.T) {
		f := good()
		f.AddLabel, f.LabelID, f.LabelFor, f.Anonymize, f.PrintNow = true, "7", "g:21", true, true
		r, errs := f.Check(today, dept, ch)
		if errs != nil {
			t.Fatal(errs)
		}
		group := int64(21)
		want := &buckets.PrintRequest{Verification: database.VerifySMS, Destination: "+32470123489", SMSRegion: "BE",
			Scope: database.ScopeImages, Reason: "second opinion", Language: "nl", ValidUntil: time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC),
			LabelID: 7, LabelGroupID: &group, Anonymize: true, Message: "Bring this letter.\nThank you.", PrintNow: true,
			FormToken: "tok-0123456789abcdef"}
		if !reflect.DeepEqual(r, want) {
			t.Fatalf("got %+v\nwant %+v", r, want)
		}
		// The last day of the maximum, an e-mail for a user's label, a
		// birth-date print without destination, a malformed token dropped.
		f = good()
		f.Verification, f.Email, f.ValidUntil = database.VerifyEmail, "zoe@example.org", "2026-09-15"
		f.AddLabel, f.LabelID, f.LabelFor, f.FormToken = true, "7", "u:11", "short"
		if r, errs = f.Check(today, dept, ch); errs != nil || r.Destination != "zoe@example.org" || *r.LabelUserID != 11 || r.FormToken != "" {
			t.Fatalf("got %+v, %v", r, errs)
		}
		f = good()
		f.Verification, f.Phone = database.VerifyDOB, ""
		if r, errs = f.Check(today, dept, ch); errs != nil || r.Destination != "" || r.SMSRegion != "" {
			t.Fatalf("got %+v, %v", r, errs)
		}
	})
}

// A form token is kept only when it looks like one NewFormToken makes.
func TestCleanFormToken(t *testing.T) {
	tok := buckets.NewFormToken()
	for in, want := range map[string]string{
		tok: tok, "tok-0123456789abcdef": "tok-0123456789abcdef", "": "", "short": "",
		strings.Repeat("a", 65): "", "tok 0123456789abcdef": "", "tok=0123456789abcdef": "",
	} {
		if got := buckets.CleanFormToken(in); got != want {
			t.Errorf("CleanFormToken(%q) = %q, want %q", in, got, want)
		}
	}
}
