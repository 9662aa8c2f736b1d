package staff

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/web"
)

// AuditSettings is the audit action of a department settings change.
const AuditSettings = audit.SettingsUpdate

// Validity units, and their length in days for comparing periods. A month
// counts 30 days and a year 365 here: the comparison "maximum >= default"
// only needs a consistent order, the print form does the calendar math.
var unitDays = map[string]int{"day": 1, "week": 7, "month": 30, "year": 365}

// ValidityUnits in the order the form offers them.
var ValidityUnits = []string{"day", "week", "month", "year"}

// maxPeriodDays bounds any validity period: five years.
const maxPeriodDays = 5*365 + 1

// settingsForm is the settings form as typed (echoed back on errors).
type settingsForm struct {
	Name, Address, Phone, Email, Contact string
	DefaultN, DefaultUnit, MaxN, MaxUnit string
	extraForm                            // SMS and verification settings (settings_extra.go)
}

type settingsData struct {
	Dept        *store.Department
	Form        settingsForm
	Units       []string
	ServiceDesk bool
	Departments []store.Department
	Saved       bool
	extraData   // logo and choices (settings_extra.go)
}

var phoneRe = regexp.MustCompile(`^[0-9+()./ -]*$`)

// SettingsForm shows the department settings. Department admins edit their
// own department; the service desk (whom the seed tells departments to
// contact for this) chooses any department; staff are refused.
func (h *Handlers) SettingsForm(c fiber.Ctx) error {
	web.NoStore(c)
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.Query("department"))
	if err != nil {
		return err
	}
	data := settingsData{Dept: d, Form: formFromDept(d), Units: ValidityUnits, Saved: c.Query("saved") == "1"}
	return h.renderSettings(c, u, http.StatusOK, web.NewPage(c, "settings.title", nil), data)
}

// SaveSettings validates and stores the settings with an audit event, in one transaction.
func (h *Handlers) SaveSettings(c fiber.Ctx) error {
	web.NoStore(c)
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.FormValue("department"))
	if err != nil {
		return err
	}
	form := settingsForm{
		Name: strings.TrimSpace(c.FormValue("name")), Address: strings.TrimSpace(c.FormValue("address")),
		Phone: strings.TrimSpace(c.FormValue("phone")), Email: strings.TrimSpace(c.FormValue("email")),
		Contact:  strings.TrimSpace(c.FormValue("contact")),
		DefaultN: strings.TrimSpace(c.FormValue("default_n")), DefaultUnit: c.FormValue("default_unit"),
		MaxN: strings.TrimSpace(c.FormValue("max_n")), MaxUnit: c.FormValue("max_unit"),
		extraForm: readExtraForm(c),
	}
	page := web.NewPage(c, "settings.title", nil)
	next, ok := validateSettings(page, d, form)
	if !ok {
		return h.renderSettings(c, u, http.StatusUnprocessableEntity, page, settingsData{Dept: d, Form: form, Units: ValidityUnits})
	}
	err = store.InTx(c.Context(), h.DB, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model(next).
			Column("name", "address", "phone", "email", "contact",
				"default_validity_n", "default_validity_unit", "max_validity_n", "max_validity_unit",
				"sms_prefixes", "sms_sender", "verifications").
			WherePK().Exec(ctx)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, &audit.Event{
			Action: AuditSettings, ActorKind: "staff", ActorID: &u.ID, ActorName: u.Username,
			DepartmentID: &d.ID, IP: c.IP(), Details: settingsChanges(d, next),
		})
	})
	if err != nil {
		return err
	}
	to := "/staff/settings?saved=1"
	if u.IsServiceDesk() {
		to += "&department=" + strconv.FormatInt(d.ID, 10)
	}
	return web.Redirect(c, to)
}

// settingsDept picks the department the user may configure (403 for staff,
// 404 for a department the service desk asks for that does not exist).
func (h *Handlers) settingsDept(c fiber.Ctx, u *store.User, asked string) (*store.Department, error) {
	var id int64
	switch {
	case u.IsAdmin() && u.DepartmentID != nil:
		id = *u.DepartmentID // whatever the request says
	case u.IsServiceDesk():
		if asked == "" {
			// The first department, so the page is never empty.
			err := h.DB.NewSelect().Model((*store.Department)(nil)).Column("id").Order("name").Limit(1).Scan(c.Context(), &id)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, apperr.New(apperr.NotFound, "error.notfound")
			} else if err != nil {
				return nil, err
			}
			break
		}
		n, err := strconv.ParseInt(asked, 10, 64)
		if err != nil || n <= 0 {
			return nil, apperr.New(apperr.NotFound, "error.notfound")
		}
		id = n
	default:
		return nil, apperr.New(apperr.Forbidden, "settings.error.forbidden")
	}
	d := new(store.Department)
	err := h.DB.NewSelect().Model(d).Where("id = ?", id).Scan(c.Context())
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !u.CanSeeDepartment(d.ID)) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	return d, err
}

func (h *Handlers) renderSettings(c fiber.Ctx, u *store.User, status int, page *web.Page, data settingsData) error {
	if u.IsServiceDesk() {
		data.ServiceDesk = true
		if err := h.DB.NewSelect().Model(&data.Departments).Order("name").Scan(c.Context()); err != nil {
			return err
		}
	}
	if err := h.loadExtraData(c, &data); err != nil {
		return err
	}
	page.Data = data
	return web.Render(c, status, "staff/settings", page)
}

func formFromDept(d *store.Department) settingsForm {
	f := settingsForm{Name: d.Name, Address: d.Address, Phone: d.Phone, Email: d.Email, Contact: d.Contact,
		DefaultN: strconv.Itoa(d.DefaultValidityN), DefaultUnit: d.DefaultValidityUnit}
	if d.MaxValidityN != nil && d.MaxValidityUnit != nil {
		f.MaxN, f.MaxUnit = strconv.Itoa(*d.MaxValidityN), *d.MaxValidityUnit
	}
	f.extraForm = extraFromDept(d)
	return f
}

// validateSettings checks the form; every problem is put on its field. It
// returns the department as it will be stored.
func validateSettings(p *web.Page, d *store.Department, f settingsForm) (*store.Department, bool) {
	next := *d
	next.Name, next.Address, next.Phone, next.Email, next.Contact = f.Name, f.Address, f.Phone, f.Email, f.Contact
	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		p.AddError("name", "settings.error.name.required")
	case n > 200:
		p.AddError("name", "settings.error.toolong", "Max", 200)
	}
	if utf8.RuneCountInString(f.Address) > 300 {
		p.AddError("address", "settings.error.toolong", "Max", 300)
	}
	if len(f.Phone) > 40 || !phoneRe.MatchString(f.Phone) {
		p.AddError("phone", "settings.error.phone")
	}
	if f.Email != "" {
		a, err := mail.ParseAddress(f.Email)
		if err != nil || a.Address != f.Email || len(f.Email) > 254 {
			p.AddError("email", "settings.error.email")
		}
	}
	if utf8.RuneCountInString(f.Contact) > 300 {
		p.AddError("contact", "settings.error.toolong", "Max", 300)
	}
	// The name and the contact person are one line of the SMS and the letter.
	for _, fv := range [...]struct{ field, v string }{{"name", f.Name}, {"contact", f.Contact}} {
		if !departments.SingleLine(fv.v) && p.Errors[fv.field] == "" {
			p.AddError(fv.field, "settings.error.singleline")
		}
	}
	// Everything the letter prints must be in its font (issue 9 item 3).
	for _, fv := range [...]struct{ field, v string }{{"name", f.Name}, {"address", f.Address}, {"email", f.Email}, {"contact", f.Contact}} {
		if r, ok := letter.CheckPrintable(fv.v); !ok && p.Errors[fv.field] == "" {
			p.AddError(fv.field, "letterfix.unprintable", "Char", letter.CharLabel(r))
		}
	}

	defDays := 0
	if n, ok := periodNumber(p, "default_n", f.DefaultN); ok {
		if days, ok := periodDays(p, "default", n, f.DefaultUnit); ok {
			next.DefaultValidityN, next.DefaultValidityUnit, defDays = n, f.DefaultUnit, days
		}
	}
	next.MaxValidityN, next.MaxValidityUnit = nil, nil
	switch {
	case f.MaxN == "" && f.MaxUnit == "":
		// no maximum
	case f.MaxN == "" || f.MaxUnit == "":
		p.AddError("max_n", "settings.error.max.incomplete")
	default:
		if n, ok := periodNumber(p, "max_n", f.MaxN); ok {
			if days, ok := periodDays(p, "max", n, f.MaxUnit); ok {
				unit := f.MaxUnit
				next.MaxValidityN, next.MaxValidityUnit = &n, &unit
				if defDays > 0 && days < defDays {
					p.AddError("max_n", "settings.error.max.belowdefault")
				}
			}
		}
	}
	validateExtra(p, &next, f.extraForm)
	return &next, len(p.Errors) == 0
}

func periodNumber(p *web.Page, field, v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		p.AddError(field, "settings.error.number")
		return 0, false
	}
	return n, true
}

// periodDays checks the unit and the five-year bound of one period.
func periodDays(p *web.Page, prefix string, n int, unit string) (int, bool) {
	per, ok := unitDays[unit]
	if !ok {
		p.AddError(prefix+"_unit", "settings.error.unit")
		return 0, false
	}
	if n > maxPeriodDays/per {
		p.AddError(prefix+"_n", "settings.error.period.long")
		return 0, false
	}
	return n * per, true
}

// settingsChanges lists what changed, for the audit trail (no secrets here:
// these are the department's public letter details and periods).
func settingsChanges(old, next *store.Department) map[string]any {
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
	extraChanges(add, old, next)
	return map[string]any{"changed": ch}
}

func period(n *int, unit *string) string {
	if n == nil || unit == nil {
		return ""
	}
	return strconv.Itoa(*n) + " " + *unit
}
