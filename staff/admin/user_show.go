package admin

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

type userData struct {
	Account *database.User
	Groups  []database.Group
	Self    bool
}

// UserShow shows one account: state, groups, disable/enable and password reset.
func (h *Handlers) UserShow(c fiber.Ctx) error {
	page := web.NewPage(c, "users.account.title", nil)
	staffweb.Flash(c, page)
	return h.renderUser(c, http.StatusOK, page)
}

func (h *Handlers) renderUser(c fiber.Ctx, status int, page *web.Page) error {
	u := web.CurrentUser(c)
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	acc, err := h.Users.Get(c.Context(), u, id)
	if err != nil {
		return err
	}
	groups, err := h.Users.GroupsOf(c.Context(), acc.ID)
	if err != nil {
		return err
	}
	page.Data = userData{Account: acc, Groups: groups, Self: acc.ID == u.ID}
	return web.Render(c, status, "staff/user", page)
}
