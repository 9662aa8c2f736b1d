package admin

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// GroupDelete deletes a group (its memberships and the labels set for it go too).
func (h *Handlers) GroupDelete(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	g, err := h.Users.GetGroup(c.Context(), u, id)
	if err != nil {
		return err
	}
	if err := h.Users.DeleteGroup(c.Context(), staffweb.Actor(c), id); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/groups?done=deleted"+staffweb.DeptQuery(u, g.DepartmentID, "&"))
}
