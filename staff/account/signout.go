package account

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/web"
)

// SignOut deletes the server-side session, so the old cookie opens nothing.
func (h *Handlers) SignOut(c fiber.Ctx) error {
	if u := web.CurrentUser(c); u != nil {
		h.record(c.Context(), c, audit.SignOut, "ok", u, u.Username)
	}
	if err := h.Sessions.Destroy(c); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/signin")
}
