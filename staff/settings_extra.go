package staff

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/web"
)

// extraForm is the part of the settings form for the OTP sender and the
// verification types staff may choose.
type extraForm struct {
	// Present is false for a POST without these fields (a client of the
	// form before them): the stored values are kept.
	Present       bool
	SMSPrefixes   string
	SMSSender     string
	Verifications []string
}

// extraData is what the settings page shows besides the form.
type extraData struct {
	AllVerifications []string
	HasLogo          bool
	LogoW, LogoH     int
	LogoMaxMB        int
}

// Checked reports whether verification type v is ticked in the form.
func (f extraForm) Checked(v string) bool { return slices.Contains(f.Verifications, v) }

func readExtraForm(c fiber.Ctx) extraForm {
	f := extraForm{Present: c.FormValue("extra") == "1",
		SMSPrefixes: strings.TrimSpace(c.FormValue("sms_prefixes")), SMSSender: strings.TrimSpace(c.FormValue("sms_sender"))}
	for _, v := range c.Request().PostArgs().PeekMulti("verification") {
		f.Verifications = append(f.Verifications, string(v))
	}
	return f
}

func extraFromDept(d *store.Department) extraForm {
	return extraForm{Present: true, SMSPrefixes: departments.FormatPrefixes(d.SMSPrefixes), SMSSender: d.SMSSender,
		Verifications: append([]string(nil), d.Verifications...)}
}

// validateExtra checks the SMS and verification settings into next.
func validateExtra(p *web.Page, next *store.Department, f extraForm) {
	if next.SMSPrefixes == nil {
		next.SMSPrefixes = []string{} // stored as '{}', never NULL
	}
	if !f.Present {
		return
	}
	if len(f.SMSPrefixes) > 400 {
		p.AddError("sms_prefixes", "settings.error.toolong", "Max", 400)
	} else if codes, bad := departments.ParsePrefixes(f.SMSPrefixes); bad != "" {
		p.AddError("sms_prefixes", "settings.error.smsprefix", "Code", bad)
	} else if len(codes) > departments.MaxPrefixes {
		p.AddError("sms_prefixes", "settings.error.smsprefix.many", "Max", departments.MaxPrefixes)
	} else {
		next.SMSPrefixes = codes
	}
	if !departments.ValidSender(f.SMSSender) {
		p.AddError("sms_sender", "settings.error.smssender")
	} else {
		next.SMSSender = f.SMSSender
	}
	if vs, ok := departments.ParseVerifications(f.Verifications); !ok {
		p.AddError("verification", "settings.error.verification")
	} else {
		next.Verifications = vs
		if slices.Contains(vs, "sms") && len(next.SMSPrefixes) == 0 && p.Err("sms_prefixes") == "" {
			p.AddError("sms_prefixes", "settings.error.smsprefix.none")
		}
	}
}

// extraChanges adds the changed SMS and verification settings to the audit details.
func extraChanges(add func(k string, a, b any), old, next *store.Department) {
	add("sms_prefixes", strings.Join(old.SMSPrefixes, ","), strings.Join(next.SMSPrefixes, ","))
	add("sms_sender", old.SMSSender, next.SMSSender)
	add("verifications", strings.Join(old.Verifications, ","), strings.Join(next.Verifications, ","))
}

func (h *Handlers) loadExtraData(c fiber.Ctx, data *settingsData) error {
	data.AllVerifications = departments.Verifications
	data.LogoMaxMB = departments.MaxLogoBytes >> 20
	var ls []store.DepartmentLogo
	if err := h.DB.NewSelect().Model(&ls).Column("width", "height").Where("department_id = ?", data.Dept.ID).Scan(c.Context()); err != nil {
		return err
	}
	if len(ls) == 1 {
		data.HasLogo, data.LogoW, data.LogoH = true, ls[0].Width, ls[0].Height
	}
	return nil
}

// settingsBack is the settings page of department d for u.
func settingsBack(u *store.User, d *store.Department, done string) string {
	return "/staff/settings?" + done + deptQuery(u, d.ID, "&")
}

// SettingsLogo takes an uploaded logo (multipart), checks it by content and
// stores it re-encoded as PNG.
func (h *Handlers) SettingsLogo(c fiber.Ctx) error {
	web.NoStore(c)
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.FormValue("department"))
	if err != nil {
		return err
	}
	// A few logos at a time are copied, decoded and re-encoded; the rest
	// wait a while, then hear that the server is busy.
	var pngBytes []byte
	var w, hgt int
	release, err := departments.LogoTurn(c.Context())
	if err == nil {
		var data []byte
		data, err = readUpload(c, "logo", departments.MaxLogoBytes)
		if err == nil {
			pngBytes, w, hgt, err = departments.NormalizeLogo(data)
		}
		release()
	}
	if err == nil {
		err = departments.SetLogo(c.Context(), h.DB, actor(c), d.ID, pngBytes, w, hgt)
	}
	page := web.NewPage(c, "settings.title", nil)
	status := http.StatusUnprocessableEntity
	if errors.Is(err, departments.ErrLogoBusy) {
		c.Set(fiber.HeaderRetryAfter, "10")
		status = http.StatusServiceUnavailable
	}
	if fieldErrors(page, err) {
		return h.renderSettings(c, u, status, page, settingsData{Dept: d, Form: formFromDept(d), Units: ValidityUnits})
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, settingsBack(u, d, "saved=1"))
}

// SettingsLogoDelete removes the logo.
func (h *Handlers) SettingsLogoDelete(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.FormValue("department"))
	if err != nil {
		return err
	}
	if err := departments.DeleteLogo(c.Context(), h.DB, actor(c), d.ID); err != nil {
		return err
	}
	return web.Redirect(c, settingsBack(u, d, "saved=1"))
}

// SettingsLogoImage serves the stored logo (for the settings page preview).
func (h *Handlers) SettingsLogoImage(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.Query("department"))
	if err != nil {
		return err
	}
	b, err := store.LoadLogo(c.Context(), h.DB, d.ID)
	if err != nil {
		return err
	}
	if b == nil {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
	web.NoStore(c)
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(b)
}

// readUpload reads the named file of a multipart form, at most max bytes.
func readUpload(c fiber.Ctx, field string, max int) ([]byte, error) {
	fh, err := c.FormFile(field)
	if err != nil {
		return nil, apperr.Field(field, "settings.error.logo.empty")
	}
	if fh.Size > int64(max) {
		return nil, apperr.Field(field, "settings.error.logo.size", "Max", max>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(f, int64(max)+1)); err != nil {
		return nil, err
	}
	if buf.Len() > max {
		return nil, apperr.Field(field, "settings.error.logo.size", "Max", max>>20)
	}
	return buf.Bytes(), nil
}
