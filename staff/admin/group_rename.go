package admin

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// GroupRename renames a group.
func (h *Handlers) GroupRename(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	name := c.FormValue("name")
	_, err = h.Users.RenameGroup(c.Context(), staffweb.Actor(c), id, name)
	page := web.NewPage(c, "groups.group.title", nil)
	if staffweb.FieldErrors(page, err) {
		return h.renderGroup(c, http.StatusUnprocessableEntity, page, &name)
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/groups/"+strconv.FormatInt(id, 10)+"?done=saved")
}
