package staff

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// GroupRename renames a group.
func (h *Handlers) GroupRename(c fiber.Ctx) error {
	if err := adminOnly(web.CurrentUser(c)); err != nil {
		return err
	}
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	name := c.FormValue("name")
	_, err = h.Users.RenameGroup(c.Context(), actor(c), id, name)
	page := web.NewPage(c, "groups.group.title", nil)
	if fieldErrors(page, err) {
		return h.renderGroup(c, http.StatusUnprocessableEntity, page, &name)
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/groups/"+strconv.FormatInt(id, 10)+"?done=saved")
}
