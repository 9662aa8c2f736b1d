package admin

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// labelForm is a create or edit form as typed; ID is 0 for the create form.
type labelForm struct {
	ID          int64
	Name, Color string
}

type labelsData struct {
	Dept        *database.Department
	Labels      []database.Label
	Palette     []labels.Colour
	New         labelForm
	Edit        labelForm // the edit form that failed, echoed back
	ServiceDesk bool
	Departments []database.Department
}

// LabelsList lists a department's labels with the forms to create, rename,
// recolour and delete them.
func (h *Handlers) LabelsList(c fiber.Ctx) error {
	page := web.NewPage(c, "labels.title", nil)
	staffweb.Flash(c, page)
	return h.renderLabels(c, http.StatusOK, page, c.Query("department"), labelForm{Color: labels.Palette[0].Hex}, labelForm{})
}

// LabelCreate creates a label.
func (h *Handlers) LabelCreate(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.FormValue("department"))
	if err != nil {
		return err
	}
	form := labelForm{Name: c.FormValue("name"), Color: c.FormValue("color")}
	_, err = h.Labels.Create(c.Context(), staffweb.Actor(c), d.ID, form.Name, form.Color)
	page := web.NewPage(c, "labels.title", nil)
	if staffweb.FieldErrors(page, err) {
		return h.renderLabels(c, http.StatusUnprocessableEntity, page, c.FormValue("department"), form, labelForm{})
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/labels?done=created"+staffweb.DeptQuery(u, d.ID, "&"))
}

func (h *Handlers) renderLabels(c fiber.Ctx, status int, page *web.Page, asked string, form, edit labelForm) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, asked)
	if err != nil {
		return err
	}
	list, err := h.Labels.List(c.Context(), d.ID)
	if err != nil {
		return err
	}
	data := labelsData{Dept: d, Labels: list, Palette: labels.Palette, New: form, Edit: edit, ServiceDesk: u.IsServiceDesk()}
	if data.ServiceDesk {
		ds, err := h.Departments.List(c.Context())
		if err != nil {
			return err
		}
		data.Departments = ds
	}
	page.Data = data
	return web.Render(c, status, "staff/labels", page)
}
