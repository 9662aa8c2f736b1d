package staff

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// GroupDelete deletes a group (its memberships and the labels set for it go too).
func (h *Handlers) GroupDelete(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	if err := adminOnly(u); err != nil {
		return err
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	g, err := h.Users.GetGroup(c.Context(), u, id)
	if err != nil {
		return err
	}
	if err := h.Users.DeleteGroup(c.Context(), actor(c), id); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/groups?done=deleted"+deptQuery(u, g.DepartmentID, "&"))
}
