package admin

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// GroupMemberAdd puts a user of the group's department into the group.
func (h *Handlers) GroupMemberAdd(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	uid, perr := strconv.ParseInt(c.FormValue("user"), 10, 64)
	if perr != nil || uid <= 0 {
		err = users.Invalid{apperr.Field("user", "groups.error.member.choose")}
	} else {
		err = h.Users.AddMember(c.Context(), staffweb.Actor(c), id, uid)
		if apperr.CodeOf(err) == apperr.NotFound {
			// The group is checked first: a NotFound here is the user.
			if _, gerr := h.Users.GetGroup(c.Context(), web.CurrentUser(c), id); gerr == nil {
				err = users.Invalid{apperr.Field("user", "groups.error.member.choose")}
			}
		}
	}
	page := web.NewPage(c, "groups.group.title", nil)
	if staffweb.FieldErrors(page, err) {
		return h.renderGroup(c, http.StatusUnprocessableEntity, page, nil)
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/groups/"+strconv.FormatInt(id, 10)+"?done=saved")
}

// GroupMemberRemove takes a user out of the group.
func (h *Handlers) GroupMemberRemove(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	uid, err := web.ParamID(c, "uid")
	if err != nil {
		return err
	}
	if err := h.Users.RemoveMember(c.Context(), staffweb.Actor(c), id, uid); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/groups/"+strconv.FormatInt(id, 10)+"?done=saved")
}
