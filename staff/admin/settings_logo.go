package admin

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// settingsBack is the settings page of department d for u.
func settingsBack(u *database.User, d *database.Department, done string) string {
	return "/staff/settings?" + done + staffweb.DeptQuery(u, d.ID, "&")
}

// SettingsLogo takes an uploaded logo (multipart), checks it by content and
// stores it re-encoded as PNG.
func (h *Handlers) SettingsLogo(c fiber.Ctx) error {
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
		err = h.Departments.SetLogo(c.Context(), staffweb.Actor(c), d.ID, pngBytes, w, hgt)
	}
	page := web.NewPage(c, "settings.title", nil)
	status := http.StatusUnprocessableEntity
	if errors.Is(err, departments.ErrLogoBusy) {
		c.Set(fiber.HeaderRetryAfter, "10")
		status = http.StatusServiceUnavailable
	}
	if staffweb.FieldErrors(page, err) {
		return h.renderSettings(c, u, status, page, settingsData{Dept: d, Form: departments.SettingsOf(d), Units: ValidityUnits})
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
	if err := h.Departments.DeleteLogo(c.Context(), staffweb.Actor(c), d.ID); err != nil {
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
	b, err := h.Departments.Logo(c.Context(), d.ID)
	if err != nil {
		return err
	}
	if b == nil {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
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
