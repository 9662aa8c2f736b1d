package admin

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// LabelUpdate renames and recolours a label.
func (h *Handlers) LabelUpdate(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	l, err := h.Labels.Get(c.Context(), u, id)
	if err != nil {
		return err
	}
	form := labelForm{ID: id, Name: c.FormValue("name"), Color: c.FormValue("color")}
	_, err = h.Labels.Update(c.Context(), staffweb.Actor(c), id, form.Name, form.Color)
	page := web.NewPage(c, "labels.title", nil)
	if staffweb.FieldErrors(page, err) {
		return h.renderLabels(c, http.StatusUnprocessableEntity, page, strconv.FormatInt(l.DepartmentID, 10), labelForm{Color: labels.Palette[0].Hex}, form)
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/labels?done=saved"+staffweb.DeptQuery(u, l.DepartmentID, "&"))
}
