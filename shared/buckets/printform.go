package buckets

import (
	"context"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/users"
)

// Limits of the free-text fields of a print.
const (
	ReasonMin  = 3
	ReasonMax  = 500
	MessageMax = 1000
)

// PrintForm is a print as asked for, field by field and unchecked: the staff
// form fills it from its inputs, a JSON API from its body (same names). Check
// turns it into a PrintRequest or says which fields are wrong.
type PrintForm struct {
	Verification string `json:"verification"` // database.VerifySMS, VerifyEmail or VerifyDOB
	SMSRegion    string `json:"sms_region"`   // ISO region of the SMS prefix, e.g. "BE"
	Phone        string `json:"phone"`        // mobile number, local or international notation
	Email        string `json:"email"`
	Scope        string `json:"scope"` // database.ScopeImages or ScopeImagesReport
	Reason       string `json:"reason"`
	Language     string `json:"language"`    // language of the letter and the patient pages
	ValidUntil   string `json:"valid_until"` // YYYY-MM-DD, a date of the department's calendar (RADPASS_TIMEZONE)
	Agreed       bool   `json:"agreed"`      // the patient consented
	AddLabel     bool   `json:"add_label"`
	LabelID      string `json:"label"`
	LabelFor     string `json:"label_for"` // "u:ID" (a user) or "g:ID" (a group)
	Anonymize    bool   `json:"anonymize"`
	Message      string `json:"message"`
	PrintNow     bool   `json:"print_now"`
	// FormToken is the one-time token of this form (or the API's idempotency
	// key): a second submit of it creates nothing. Anything malformed is dropped.
	FormToken string `json:"form_token"`
}

// FieldError is one failed rule: the field it belongs to and the i18n
// message key, with its arguments as name/value pairs (a time.Time argument
// is a date the caller writes the reader's way).
type FieldError struct {
	Field string `json:"field"`
	Key   string `json:"key"`
	Args  []any  `json:"args,omitempty"`
}

// FieldErrors are all the failed rules of one form, in field order.
type FieldErrors []FieldError

func (e FieldErrors) Error() string {
	if len(e) == 0 {
		return "buckets: no field errors"
	}
	return "buckets: invalid print: " + e[0].Field + ": " + e[0].Key
}

// PrintChoices are the department's labels, users and groups a print may
// put a label on (a label for a user or group of another department is no
// choice).
type PrintChoices struct {
	Labels []database.Label
	Users  []database.User
	Groups []database.Group
}

// PrintChoices loads the choices of department dept.
func (s *Service) PrintChoices(ctx context.Context, dept int64) (PrintChoices, error) {
	return LoadPrintChoices(ctx, s.DB, dept)
}

// LoadPrintChoices loads the choices of department dept through db.
func LoadPrintChoices(ctx context.Context, db bun.IDB, dept int64) (PrintChoices, error) {
	var ch PrintChoices
	var err error
	if ch.Labels, err = labels.List(ctx, db, dept); err != nil {
		return ch, err
	}
	if err := db.NewSelect().Model(&ch.Users).Where("department_id = ? AND NOT disabled", dept).
		Order("display_name", "username").Scan(ctx); err != nil {
		return ch, err
	}
	ch.Groups, err = users.Groups(ctx, db, dept)
	return ch, err
}

// Normalize trims the fields the way every form is read: spaces around
// values, the region in capitals, one kind of line break in the message, a
// malformed form token dropped.
func (f *PrintForm) Normalize() {
	for _, p := range []*string{&f.Verification, &f.SMSRegion, &f.Phone, &f.Email, &f.Scope, &f.Reason,
		&f.Language, &f.ValidUntil, &f.LabelID, &f.LabelFor} {
		*p = strings.TrimSpace(*p)
	}
	f.SMSRegion = strings.ToUpper(f.SMSRegion)
	f.Message = strings.TrimSpace(strings.ReplaceAll(f.Message, "\r\n", "\n"))
	f.FormToken = CleanFormToken(f.FormToken)
}

// Check applies every rule of a print and returns all failures at once, so a
// form can show each next to its field. today is the department's calendar
// date (Service.Today).
func (f PrintForm) Check(today time.Time, dept *database.Department, ch PrintChoices) (*PrintRequest, FieldErrors) {
	f.Normalize()
	var errs FieldErrors
	bad := func(field, key string, args ...any) { errs = append(errs, FieldError{field, key, args}) }
	r := &PrintRequest{Reason: f.Reason, Message: f.Message, Anonymize: f.Anonymize, PrintNow: f.PrintNow, FormToken: f.FormToken}

	if !dept.AllowsVerification(f.Verification) {
		f.Verification = "" // a type the department does not offer is no choice at all
	}
	switch f.Verification {
	case database.VerifySMS:
		r.Verification = f.Verification
		if !RegionAllowed(dept, f.SMSRegion) {
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
	case database.VerifyEmail:
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
	case database.VerifyDOB:
		r.Verification = f.Verification
	default:
		bad("verification", "print.error.verification")
	}

	switch f.Scope {
	case database.ScopeImages, database.ScopeImagesReport:
		r.Scope = f.Scope
	default:
		bad("scope", "print.error.scope")
	}

	switch n := utf8.RuneCountInString(f.Reason); {
	case n < ReasonMin:
		bad("reason", "print.error.reason.short", "Min", ReasonMin)
	case n > ReasonMax:
		bad("reason", "print.error.reason.long", "Max", ReasonMax)
	}

	if i18n.Valid(f.Language) {
		r.Language = f.Language
	} else {
		bad("language", "print.error.language")
	}

	if d, err := time.Parse(time.DateOnly, f.ValidUntil); err != nil {
		bad("valid_until", "print.error.valid.format")
	} else if !d.After(today) {
		bad("valid_until", "print.error.valid.past")
	} else if max := MaxValidity(today, dept); d.After(max) {
		bad("valid_until", "print.error.valid.max", "Date", max)
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

	if utf8.RuneCountInString(f.Message) > MessageMax {
		bad("message", "print.error.message", "Max", MessageMax)
	} else if c, ok := letter.CheckPrintable(f.Message); !ok {
		bad("message", letter.UnprintableKey, "Char", letter.CharLabel(c))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// RegionAllowed: a region RadPass sends SMS to, whose calling code the
// department allows.
func RegionAllowed(dept *database.Department, r string) bool {
	if !ValidRegion(r) {
		return false
	}
	return dept == nil || len(dept.SMSPrefixes) == 0 || dept.AllowsSMSPrefix(strconv.Itoa(phonenumbers.GetCountryCodeForRegion(r)))
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

func hasLabel(ls []database.Label, id int64) bool {
	for _, l := range ls {
		if l.ID == id {
			return true
		}
	}
	return false
}

func hasUser(us []database.User, id int64) bool {
	for _, u := range us {
		if u.ID == id {
			return true
		}
	}
	return false
}

func hasGroup(gs []database.Group, id int64) bool {
	for _, g := range gs {
		if g.ID == id {
			return true
		}
	}
	return false
}
