package staff

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"
	"github.com/nyaruka/phonenumbers"

	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/store"
)

// smsRegions are the country prefixes RadPass sends SMS to (an allow-list
// against SMS pumping); the form offers exactly these.
var smsRegions = []string{"BE", "NL", "LU", "FR", "DE", "AT", "CH", "GB", "IE", "ES", "PT", "IT", "DK", "SE", "NO", "FI", "PL"}

// regionOption is one entry of the country-prefix menu.
type regionOption struct {
	Code   string
	Prefix int
}

func regionOptions() []regionOption {
	out := make([]regionOption, len(smsRegions))
	for i, r := range smsRegions {
		out[i] = regionOption{Code: r, Prefix: phonenumbers.GetCountryCodeForRegion(r)}
	}
	return out
}

func validRegion(r string) bool {
	for _, x := range smsRegions {
		if x == r {
			return true
		}
	}
	return false
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
	}
}

// printChoices are the department-specific options the form offers.
type printChoices struct {
	Labels []*store.Label
	Users  []*store.User
	Groups []*store.Group
}

// printRequest is a validated form, ready to store.
type printRequest struct {
	Verification string
	Destination  string
	SMSRegion    string
	Scope        string
	Reason       string
	Language     string
	ValidUntil   time.Time
	LabelID      int64
	LabelUserID  *int64
	LabelGroupID *int64
	Anonymize    bool
	Message      string
	PrintNow     bool
}

// fieldErr is one failed rule: form field and i18n key (with args).
type fieldErr struct {
	Field, Key string
	Args       []any
}

// validate checks every rule of STEP 2 and returns all failures at once, so
// the form shows each message next to its field.
func (f printForm) validate(today time.Time, dept *store.Department, ch printChoices) (*printRequest, []fieldErr) {
	var errs []fieldErr
	bad := func(field, key string, args ...any) { errs = append(errs, fieldErr{field, key, args}) }
	r := &printRequest{Reason: f.Reason, Message: f.Message, Anonymize: f.Anonymize, PrintNow: f.PrintNow}

	switch f.Verification {
	case store.VerifySMS:
		r.Verification = f.Verification
		if !validRegion(f.SMSRegion) {
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
	} else if max, ok := maxValidity(today, dept); ok && d.After(max) {
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

// addPeriod adds n units (day, week, month, year) to d.
func addPeriod(d time.Time, n int, unit string) time.Time {
	switch unit {
	case "day":
		return d.AddDate(0, 0, n)
	case "week":
		return d.AddDate(0, 0, 7*n)
	case "year":
		return addMonths(d, 12*n)
	}
	return addMonths(d, n)
}

// addMonths clamps to the end of a shorter month (31 January + 1 month is
// 28 February, not 3 March as time.AddDate would normalise it).
func addMonths(d time.Time, n int) time.Time {
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, d.Location()).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	day := d.Day()
	if day > last {
		day = last
	}
	return time.Date(first.Year(), first.Month(), day, d.Hour(), d.Minute(), d.Second(), d.Nanosecond(), d.Location())
}

// defaultValidity is today plus the department's default period (1 month unless configured).
func defaultValidity(today time.Time, dept *store.Department) time.Time {
	n, unit := 1, "month"
	if dept != nil && dept.DefaultValidityN > 0 {
		n, unit = dept.DefaultValidityN, dept.DefaultValidityUnit
	}
	d := addPeriod(today, n, unit)
	if max, ok := maxValidity(today, dept); ok && d.After(max) {
		d = max
	}
	return d
}

// ceilingYears bounds every validity, also where a department sets no
// maximum: an access that never ends is a mistake, not a choice (the
// settings page caps a department maximum at the same 5 years).
const ceilingYears = 5

// maxValidity is the latest allowed validity date: the department maximum
// when one is set, else the product ceiling.
func maxValidity(today time.Time, dept *store.Department) (time.Time, bool) {
	if dept == nil || dept.MaxValidityN == nil || dept.MaxValidityUnit == nil {
		return addPeriod(today, ceilingYears, "year"), true
	}
	return addPeriod(today, *dept.MaxValidityN, *dept.MaxValidityUnit), true
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
