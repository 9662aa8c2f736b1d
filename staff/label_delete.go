package staff

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// LabelDelete deletes a label; it disappears from every study.
func (h *Handlers) LabelDelete(c fiber.Ctx) error {
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
	if err := h.Labels.Delete(c.Context(), actor(c), id); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/labels?done=deleted"+deptQuery(u, l.DepartmentID, "&"))
}
