package admin

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// LabelDelete deletes a label; it disappears from every study.
func (h *Handlers) LabelDelete(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	l, err := h.Labels.Get(c.Context(), u, id)
	if err != nil {
		return err
	}
	if err := h.Labels.Delete(c.Context(), staffweb.Actor(c), id); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/labels?done=deleted"+staffweb.DeptQuery(u, l.DepartmentID, "&"))
}
