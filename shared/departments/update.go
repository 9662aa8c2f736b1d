package departments

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/letter"
)

// Validity units, and their length in days for comparing periods. A month
// counts 30 days and a year 365 here: the comparison "maximum >= default"
// only needs a consistent order, the print form does the calendar math.
var unitDays = map[string]int{"day": 1, "week": 7, "month": 30, "year": 365}

// ValidityUnits in the order forms offer them.
var ValidityUnits = []string{"day", "week", "month", "year"}

// maxPeriodDays bounds any validity period: five years.
const maxPeriodDays = 5*365 + 1

var phoneRe = regexp.MustCompile(`^[0-9+()./ -]*$`)

// Settings is a department's settings as typed in the settings form (the
// form echoes it back on errors).
type Settings struct {
	Name, Address, Phone, Email, Contact string
	DefaultN, DefaultUnit, MaxN, MaxUnit string
	// Extra is false for a request without the SMS and verification
	// fields (the form's hidden "extra" field is missing): the stored values
	// are kept.
	Extra         bool
	SMSPrefixes   string
	SMSSender     string
	Verifications []string
}

// Checked reports whether verification type v is ticked.
func (s Settings) Checked(v string) bool { return slices.Contains(s.Verifications, v) }

// SettingsOf is d's stored settings as the form shows them.
func SettingsOf(d *database.Department) Settings {
	s := Settings{Name: d.Name, Address: d.Address, Phone: d.Phone, Email: d.Email, Contact: d.Contact,
		DefaultN: strconv.Itoa(d.DefaultValidityN), DefaultUnit: d.DefaultValidityUnit,
		Extra: true, SMSPrefixes: FormatPrefixes(d.SMSPrefixes), SMSSender: d.SMSSender,
		Verifications: append([]string(nil), d.Verifications...)}
	if d.MaxValidityN != nil && d.MaxValidityUnit != nil {
		s.MaxN, s.MaxUnit = strconv.Itoa(*d.MaxValidityN), *d.MaxValidityUnit
	}
	return s
}

// Check applies s to a copy of d: the department as it will be stored, or
// every problem on its field.
func (s Settings) Check(d *database.Department) (*database.Department, apperr.Fields) {
	var v apperr.Fields
	next := *d
	next.Name, next.Address, next.Phone, next.Email, next.Contact = s.Name, s.Address, s.Phone, s.Email, s.Contact
	switch n := utf8.RuneCountInString(s.Name); {
	case n == 0:
		v.Add("name", "settings.error.name.required")
	case n > 200:
		v.Add("name", "settings.error.toolong", "Max", 200)
	}
	if utf8.RuneCountInString(s.Address) > 300 {
		v.Add("address", "settings.error.toolong", "Max", 300)
	}
	if len(s.Phone) > 40 || !phoneRe.MatchString(s.Phone) {
		v.Add("phone", "settings.error.phone")
	}
	if s.Email != "" {
		a, err := mail.ParseAddress(s.Email)
		if err != nil || a.Address != s.Email || len(s.Email) > 254 {
			v.Add("email", "settings.error.email")
		}
	}
	if utf8.RuneCountInString(s.Contact) > 300 {
		v.Add("contact", "settings.error.toolong", "Max", 300)
	}
	// The name and the contact person are one line of the SMS and the letter.
	for _, fv := range [...]struct{ field, v string }{{"name", s.Name}, {"contact", s.Contact}} {
		if !SingleLine(fv.v) && !v.Has(fv.field) {
			v.Add(fv.field, "settings.error.singleline")
		}
	}
	// Everything the letter prints must be in its font.
	for _, fv := range [...]struct{ field, v string }{{"name", s.Name}, {"address", s.Address}, {"email", s.Email}, {"contact", s.Contact}} {
		if r, ok := letter.CheckPrintable(fv.v); !ok && !v.Has(fv.field) {
			v.Add(fv.field, "letterfix.unprintable", "Char", letter.CharLabel(r))
		}
	}

	defDays := 0
	if n, ok := periodNumber(&v, "default_n", s.DefaultN); ok {
		if days, ok := periodDays(&v, "default", n, s.DefaultUnit); ok {
			next.DefaultValidityN, next.DefaultValidityUnit, defDays = n, s.DefaultUnit, days
		}
	}
	next.MaxValidityN, next.MaxValidityUnit = nil, nil
	switch {
	case s.MaxN == "" && s.MaxUnit == "":
		// no maximum
	case s.MaxN == "" || s.MaxUnit == "":
		v.Add("max_n", "settings.error.max.incomplete")
	default:
		if n, ok := periodNumber(&v, "max_n", s.MaxN); ok {
			if days, ok := periodDays(&v, "max", n, s.MaxUnit); ok {
				unit := s.MaxUnit
				next.MaxValidityN, next.MaxValidityUnit = &n, &unit
				if defDays > 0 && days < defDays {
					v.Add("max_n", "settings.error.max.belowdefault")
				}
			}
		}
	}
	s.checkExtra(&v, &next)
	return &next, v
}

// checkExtra checks the SMS and verification settings into next.
func (s Settings) checkExtra(v *apperr.Fields, next *database.Department) {
	if next.SMSPrefixes == nil {
		next.SMSPrefixes = []string{} // stored as '{}', never NULL
	}
	if !s.Extra {
		return
	}
	if len(s.SMSPrefixes) > 400 {
		v.Add("sms_prefixes", "settings.error.toolong", "Max", 400)
	} else if codes, bad := ParsePrefixes(s.SMSPrefixes); bad != "" {
		v.Add("sms_prefixes", "settings.error.smsprefix", "Code", bad)
	} else if len(codes) > MaxPrefixes {
		v.Add("sms_prefixes", "settings.error.smsprefix.many", "Max", MaxPrefixes)
	} else {
		next.SMSPrefixes = codes
	}
	if !ValidSender(s.SMSSender) {
		v.Add("sms_sender", "settings.error.smssender")
	} else {
		next.SMSSender = s.SMSSender
	}
	if vs, ok := ParseVerifications(s.Verifications); !ok {
		v.Add("verification", "settings.error.verification")
	} else {
		next.Verifications = vs
		if slices.Contains(vs, "sms") && len(next.SMSPrefixes) == 0 && !v.Has("sms_prefixes") {
			v.Add("sms_prefixes", "settings.error.smsprefix.none")
		}
	}
}

func periodNumber(v *apperr.Fields, field, s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		v.Add(field, "settings.error.number")
		return 0, false
	}
	return n, true
}

// periodDays checks the unit and the five-year bound of one period.
func periodDays(v *apperr.Fields, prefix string, n int, unit string) (int, bool) {
	per, ok := unitDays[unit]
	if !ok {
		v.Add(prefix+"_unit", "settings.error.unit")
		return 0, false
	}
	if n > maxPeriodDays/per {
		v.Add(prefix+"_n", "settings.error.period.long")
		return 0, false
	}
	return n * per, true
}

// Update checks s against department d and stores it with its audit event
// (what changed) in one transaction. Bad input returns the field problems
// (apperr.Fields) and stores nothing.
func Update(ctx context.Context, db bun.IDB, actor audit.Actor, d *database.Department, s Settings) (*database.Department, error) {
	next, bad := s.Check(d)
	if len(bad) > 0 {
		return nil, bad
	}
	err := database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model(next).
			Column("name", "address", "phone", "email", "contact",
				"default_validity_n", "default_validity_unit", "max_validity_n", "max_validity_unit",
				"sms_prefixes", "sms_sender", "verifications").
			WherePK().Exec(ctx)
		if err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.SettingsUpdate, &d.ID, changes(d, next))
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

// changes lists what changed, for the audit trail (no secrets here: these
// are the department's public letter details, periods and OTP sender).
func changes(old, next *database.Department) map[string]any {
	ch := map[string]any{}
	add := func(k string, a, b any) {
		if a != b {
			ch[k] = map[string]any{"from": a, "to": b}
		}
	}
	add("name", old.Name, next.Name)
	add("address", old.Address, next.Address)
	add("phone", old.Phone, next.Phone)
	add("email", old.Email, next.Email)
	add("contact", old.Contact, next.Contact)
	add("default_validity", period(&old.DefaultValidityN, &old.DefaultValidityUnit), period(&next.DefaultValidityN, &next.DefaultValidityUnit))
	add("max_validity", period(old.MaxValidityN, old.MaxValidityUnit), period(next.MaxValidityN, next.MaxValidityUnit))
	add("sms_prefixes", strings.Join(old.SMSPrefixes, ","), strings.Join(next.SMSPrefixes, ","))
	add("sms_sender", old.SMSSender, next.SMSSender)
	add("verifications", strings.Join(old.Verifications, ","), strings.Join(next.Verifications, ","))
	return map[string]any{"changed": ch}
}

func period(n *int, unit *string) string {
	if n == nil || unit == nil {
		return ""
	}
	return strconv.Itoa(*n) + " " + *unit
}

// List is every department by name (the service desk's department choice).
func List(ctx context.Context, db bun.IDB) ([]database.Department, error) {
	var ds []database.Department
	err := db.NewSelect().Model(&ds).OrderExpr("name, id").Scan(ctx)
	return ds, err
}

// Get is department id; apperr NotFound when there is none.
func Get(ctx context.Context, db bun.IDB, id int64) (*database.Department, error) {
	d := new(database.Department)
	err := db.NewSelect().Model(d).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	return d, err
}

// FirstID is the id of the first department by name (a page that must show
// one); apperr NotFound when there is none.
func FirstID(ctx context.Context, db bun.IDB) (int64, error) {
	var id int64
	err := db.NewSelect().Model((*database.Department)(nil)).Column("id").Order("name").Limit(1).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, apperr.New(apperr.NotFound, "error.notfound")
	}
	return id, err
}

// LogoSize is the stored logo's size; ok is false when there is none.
func LogoSize(ctx context.Context, db bun.IDB, dept int64) (w, h int, ok bool, err error) {
	var ls []database.DepartmentLogo
	if err := db.NewSelect().Model(&ls).Column("width", "height").Where("department_id = ?", dept).Scan(ctx); err != nil {
		return 0, 0, false, err
	}
	if len(ls) != 1 {
		return 0, 0, false, nil
	}
	return ls[0].Width, ls[0].Height, true, nil
}

// Service is the department operations on one database, for handlers.
type Service struct{ DB bun.IDB }

// List is every department by name.
func (s Service) List(ctx context.Context) ([]database.Department, error) { return List(ctx, s.DB) }

// Get is department id (apperr NotFound when there is none).
func (s Service) Get(ctx context.Context, id int64) (*database.Department, error) {
	return Get(ctx, s.DB, id)
}

// FirstID is the first department's id by name (apperr NotFound when none).
func (s Service) FirstID(ctx context.Context) (int64, error) { return FirstID(ctx, s.DB) }

// LogoSize is the stored logo's size (ok false: no logo).
func (s Service) LogoSize(ctx context.Context, dept int64) (w, h int, ok bool, err error) {
	return LogoSize(ctx, s.DB, dept)
}

// Logo is the stored logo's PNG bytes (nil: none).
func (s Service) Logo(ctx context.Context, dept int64) ([]byte, error) {
	return database.LoadLogo(ctx, s.DB, dept)
}

// Update stores settings st of d with its audit event (see Update).
func (s Service) Update(ctx context.Context, actor audit.Actor, d *database.Department, st Settings) (*database.Department, error) {
	return Update(ctx, s.DB, actor, d, st)
}

// SetLogo stores a normalized logo (see SetLogo).
func (s Service) SetLogo(ctx context.Context, actor audit.Actor, dept int64, pngBytes []byte, w, h int) error {
	return SetLogo(ctx, s.DB, actor, dept, pngBytes, w, h)
}

// DeleteLogo removes the logo (see DeleteLogo).
func (s Service) DeleteLogo(ctx context.Context, actor audit.Actor, dept int64) error {
	return DeleteLogo(ctx, s.DB, actor, dept)
}
