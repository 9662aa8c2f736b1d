package staff

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/labels"
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
	l, err := labels.Get(c.Context(), h.DB, u, id)
	if err != nil {
		return err
	}
	if err := labels.Delete(c.Context(), h.DB, actor(c), id); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/labels?done=deleted"+deptQuery(u, l.DepartmentID, "&"))
}
