package staff

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/web"
)

// LabelUpdate renames and recolours a label.
func (h *Handlers) LabelUpdate(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	if err := adminOnly(u); err != nil {
		return err
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	l, err := h.Labels.Get(c.Context(), u, id)
	if err != nil {
		return err
	}
	form := labelForm{ID: id, Name: c.FormValue("name"), Color: c.FormValue("color")}
	_, err = h.Labels.Update(c.Context(), actor(c), id, form.Name, form.Color)
	page := web.NewPage(c, "labels.title", nil)
	if fieldErrors(page, err) {
		return h.renderLabels(c, http.StatusUnprocessableEntity, page, strconv.FormatInt(l.DepartmentID, 10), labelForm{Color: labels.Palette[0].Hex}, form)
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/labels?done=saved"+deptQuery(u, l.DepartmentID, "&"))
}
