package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// AuditSettings is the audit action of a department settings change.
const AuditSettings = audit.SettingsUpdate

// ValidityUnits in the order the form offers them.
var ValidityUnits = departments.ValidityUnits

type settingsData struct {
	Dept            *database.Department
	Form            departments.Settings
	Units           []string
	ServiceDesk     bool
	Departments     []database.Department
	Saved           bool
	settingsChoices // the verification choices and the logo
	Notice          noticeSettings
}

// SettingsForm shows the department settings. Department admins edit their
// own department; the service desk (whom the seed tells departments to
// contact for this) chooses any department; staff are refused.
func (h *Handlers) SettingsForm(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.Query("department"))
	if err != nil {
		return err
	}
	data := settingsData{Dept: d, Form: departments.SettingsOf(d), Units: ValidityUnits, Saved: c.Query("saved") == "1"}
	return h.renderSettings(c, u, http.StatusOK, web.NewPage(c, "settings.title", nil), data)
}

// SaveSettings stores the settings (departments.Update: the rules, the row
// and its audit event) or shows the form again with every problem.
func (h *Handlers) SaveSettings(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.FormValue("department"))
	if err != nil {
		return err
	}
	form := departments.Settings{
		Name: strings.TrimSpace(c.FormValue("name")), Address: strings.TrimSpace(c.FormValue("address")),
		Phone: strings.TrimSpace(c.FormValue("phone")), Email: strings.TrimSpace(c.FormValue("email")),
		Contact:  strings.TrimSpace(c.FormValue("contact")),
		DefaultN: strings.TrimSpace(c.FormValue("default_n")), DefaultUnit: c.FormValue("default_unit"),
		MaxN: strings.TrimSpace(c.FormValue("max_n")), MaxUnit: c.FormValue("max_unit"),
	}
	readSMSFields(c, &form)
	readyDefault := c.FormValue("ready_notice_default") == "1"
	_, err = h.Departments.Update(c.Context(), staffweb.Actor(c), d, form)
	page := web.NewPage(c, "settings.title", nil)
	if staffweb.FieldErrors(page, err) {
		data := settingsData{Dept: d, Form: form, Units: ValidityUnits}
		data.Notice.ReadyDefault, data.Notice.fromForm = readyDefault, true
		return h.renderSettings(c, u, http.StatusUnprocessableEntity, page, data)
	}
	if err != nil {
		return err
	}
	if form.Extra { // the whole form was posted, its checkbox with it
		if err := h.saveReadyDefault(c, d.ID, readyDefault); err != nil {
			return err
		}
	}
	to := "/staff/settings?saved=1"
	if u.IsServiceDesk() {
		to += "&department=" + strconv.FormatInt(d.ID, 10)
	}
	return web.Redirect(c, to)
}

// settingsDept picks the department the user may configure (403 for staff,
// 404 for a department the service desk asks for that does not exist).
func (h *Handlers) settingsDept(c fiber.Ctx, u *database.User, asked string) (*database.Department, error) {
	var id int64
	switch {
	case u.IsAdmin() && u.DepartmentID != nil:
		id = *u.DepartmentID // whatever the request says
	case u.IsServiceDesk():
		if asked == "" {
			// The first department, so the page is never empty.
			first, err := h.Departments.FirstID(c.Context())
			if err != nil {
				return nil, err
			}
			id = first
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
	d, err := h.Departments.Get(c.Context(), id)
	if err == nil && !u.CanSeeDepartment(d.ID) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	return d, err
}

func (h *Handlers) renderSettings(c fiber.Ctx, u *database.User, status int, page *web.Page, data settingsData) error {
	if err := h.ServiceDeskChoice(c, u, &data.ServiceDesk, &data.Departments); err != nil {
		return err
	}
	if err := h.loadChoices(c, &data); err != nil {
		return err
	}
	page.Data = data
	return web.Render(c, status, "staff/settings", page)
}

// settingsChoices is what the settings page shows besides the form.
type settingsChoices struct {
	AllVerifications []string
	HasLogo          bool
	LogoW, LogoH     int
	LogoMaxMB        int
}

// readSMSFields reads the SMS and verification fields of the settings form.
func readSMSFields(c fiber.Ctx, f *departments.Settings) {
	f.Extra = c.FormValue("extra") == "1"
	f.SMSPrefixes, f.SMSSender = strings.TrimSpace(c.FormValue("sms_prefixes")), strings.TrimSpace(c.FormValue("sms_sender"))
	for _, v := range c.Request().PostArgs().PeekMulti("verification") {
		f.Verifications = append(f.Verifications, string(v))
	}
}

func (h *Handlers) loadChoices(c fiber.Ctx, data *settingsData) error {
	data.AllVerifications = departments.Verifications
	data.LogoMaxMB = departments.MaxLogoBytes >> 20
	var err error
	data.LogoW, data.LogoH, data.HasLogo, err = h.Departments.LogoSize(c.Context(), data.Dept.ID)
	if err != nil {
		return err
	}
	return h.loadNotice(c, data)
}
