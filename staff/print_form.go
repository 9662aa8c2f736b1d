package staff

import (
	"crypto/rand"
	"encoding/base64"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"
	"github.com/nyaruka/phonenumbers"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/store"
)

// regionOption is one entry of the country-prefix menu.
type regionOption struct {
	Code   string
	Prefix int
}

// regionOptions are the SMS prefixes RadPass sends to that the department allows.
func regionOptions(dept *store.Department) []regionOption {
	var out []regionOption
	for _, r := range buckets.SMSRegions {
		if regionAllowed(dept, r) {
			out = append(out, regionOption{Code: r, Prefix: phonenumbers.GetCountryCodeForRegion(r)})
		}
	}
	return out
}

// regionAllowed: a region RadPass sends SMS to, whose calling code the department allows.
func regionAllowed(dept *store.Department, r string) bool {
	if !buckets.ValidRegion(r) {
		return false
	}
	return dept == nil || len(dept.SMSPrefixes) == 0 || dept.AllowsSMSPrefix(strconv.Itoa(phonenumbers.GetCountryCodeForRegion(r)))
}

// Limits of the free-text fields.
const (
	reasonMin  = 3
	reasonMax  = 500
	messageMax = 1000
)

// printForm is STEP 2 as typed: raw strings, so a wrong value is shown back as it was.
type printForm struct {
	Verification string
	SMSRegion    string
	Phone        string
	Email        string
	Scope        string
	Reason       string
	Language     string
	ValidUntil   string
	Agreed       bool
	AddLabel     bool
	LabelID      string
	LabelFor     string // "u:ID" or "g:ID"
	Anonymize    bool
	Message      string
	PrintNow     bool
	FormToken    string // one-time token: a second submit of this form creates nothing
}

func parsePrintForm(c fiber.Ctx) printForm {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	on := func(k string) bool { return c.FormValue(k) != "" }
	return printForm{
		Verification: v("verification"),
		SMSRegion:    strings.ToUpper(v("sms_region")),
		Phone:        v("phone"),
		Email:        v("email"),
		Scope:        v("scope"),
		Reason:       v("reason"),
		Language:     v("language"),
		ValidUntil:   v("valid_until"),
		Agreed:       on("agreed"),
		AddLabel:     on("add_label"),
		LabelID:      v("label"),
		LabelFor:     v("label_for"),
		Anonymize:    on("anonymize"),
		Message:      strings.TrimSpace(strings.ReplaceAll(c.FormValue("message"), "\r\n", "\n")),
		PrintNow:     on("print_now"),
		FormToken:    formToken(c.FormValue("form_token")),
	}
}

// printChoices are the department-specific options the form offers.
type printChoices struct {
	Labels []*store.Label
	Users  []*store.User
	Groups []*store.Group
}

// fieldErr is one failed rule: form field and i18n key (with args).
type fieldErr struct {
	Field, Key string
	Args       []any
}

// validate checks every rule of STEP 2 and returns all failures at once, so
// the form shows each message next to its field.
func (f printForm) validate(today time.Time, dept *store.Department, ch printChoices) (*buckets.PrintRequest, []fieldErr) {
	var errs []fieldErr
	bad := func(field, key string, args ...any) { errs = append(errs, fieldErr{field, key, args}) }
	r := &buckets.PrintRequest{Reason: f.Reason, Message: f.Message, Anonymize: f.Anonymize, PrintNow: f.PrintNow, FormToken: f.FormToken}

	if !dept.AllowsVerification(f.Verification) {
		f.Verification = "" // a type the department does not offer is no choice at all
	}
	switch f.Verification {
	case store.VerifySMS:
		r.Verification = f.Verification
		if !regionAllowed(dept, f.SMSRegion) {
			bad("sms_region", "print.error.region")
			break
		}
		r.SMSRegion = f.SMSRegion
		if f.Phone == "" {
			bad("phone", "print.error.phone.required")
			break
		}
		dest, ok := mobileE164(f.Phone, f.SMSRegion)
		if !ok {
			bad("phone", "print.error.phone.invalid", "Prefix", "+"+strconv.Itoa(phonenumbers.GetCountryCodeForRegion(f.SMSRegion)), "Region", f.SMSRegion)
			break
		}
		r.Destination = dest
	case store.VerifyEmail:
		r.Verification = f.Verification
		if f.Email == "" {
			bad("email", "print.error.email.required")
			break
		}
		if !validEmail(f.Email) {
			bad("email", "print.error.email.invalid")
			break
		}
		r.Destination = f.Email
	case store.VerifyDOB:
		r.Verification = f.Verification
	default:
		bad("verification", "print.error.verification")
	}

	switch f.Scope {
	case store.ScopeImages, store.ScopeImagesReport:
		r.Scope = f.Scope
	default:
		bad("scope", "print.error.scope")
	}

	switch n := utf8.RuneCountInString(f.Reason); {
	case n < reasonMin:
		bad("reason", "print.error.reason.short", "Min", reasonMin)
	case n > reasonMax:
		bad("reason", "print.error.reason.long", "Max", reasonMax)
	}

	if i18n.Valid(f.Language) {
		r.Language = f.Language
	} else {
		bad("language", "print.error.language")
	}

	if d, err := time.Parse("2006-01-02", f.ValidUntil); err != nil {
		bad("valid_until", "print.error.valid.format")
	} else if !d.After(today) {
		bad("valid_until", "print.error.valid.past")
	} else if max := buckets.MaxValidity(today, dept); d.After(max) {
		bad("valid_until", "print.error.valid.max", "Date", max) // localised by the handler
	} else {
		r.ValidUntil = d
	}

	if !f.Agreed {
		bad("agreed", "print.error.agreed")
	}

	if f.AddLabel {
		if id, err := strconv.ParseInt(f.LabelID, 10, 64); err != nil || !hasLabel(ch.Labels, id) {
			bad("label", "print.error.label")
		} else {
			r.LabelID = id
		}
		kind, idStr, _ := strings.Cut(f.LabelFor, ":")
		id, err := strconv.ParseInt(idStr, 10, 64)
		switch {
		case err == nil && kind == "u" && hasUser(ch.Users, id):
			r.LabelUserID = &id
		case err == nil && kind == "g" && hasGroup(ch.Groups, id):
			r.LabelGroupID = &id
		default:
			bad("label_for", "print.error.labelfor")
		}
	}

	if utf8.RuneCountInString(f.Message) > messageMax {
		bad("message", "print.error.message", "Max", messageMax)
	} else if r, ok := letter.CheckPrintable(f.Message); !ok {
		bad("message", letter.UnprintableKey, "Char", letter.CharLabel(r))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// mobileE164 accepts a number written the local way or with its prefix,
// provided it is a valid mobile number of region; it returns E.164.
func mobileE164(s, region string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumberForRegion(num, region) {
		return "", false
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return phonenumbers.Format(num, phonenumbers.E164), true
	}
	return "", false
}

// validEmail wants a bare address (no display name) with a dotted domain.
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	dom := s[at+1:]
	return at > 0 && strings.Contains(dom, ".") && !strings.HasPrefix(dom, ".") && !strings.HasSuffix(dom, ".")
}

func hasLabel(ls []*store.Label, id int64) bool {
	for _, l := range ls {
		if l.ID == id {
			return true
		}
	}
	return false
}

func hasUser(us []*store.User, id int64) bool {
	for _, u := range us {
		if u.ID == id {
			return true
		}
	}
	return false
}

func hasGroup(gs []*store.Group, id int64) bool {
	for _, g := range gs {
		if g.ID == id {
			return true
		}
	}
	return false
}

// newFormToken is the one-time token a print form carries (128 random bits).
func newFormToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "" // no token: the form still prints, without double-submit protection
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// formToken keeps a well-formed token from the form and drops anything else.
func formToken(s string) string {
	if len(s) < 16 || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return s
}
