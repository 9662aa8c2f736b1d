package admin

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// UserReset sets a new starting password: the user's sessions end and they
// must choose their own password at the next sign-in.
func (h *Handlers) UserReset(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	_, err = h.Users.ResetPassword(c.Context(), staffweb.Actor(c), id, c.FormValue("password"))
	page := web.NewPage(c, "users.account.title", nil)
	if staffweb.FieldErrors(page, err) {
		return h.renderUser(c, http.StatusUnprocessableEntity, page)
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/users/"+strconv.FormatInt(id, 10)+"?done=reset")
}
