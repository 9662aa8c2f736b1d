package admin

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// UserDisable disables an account; its sessions end at once.
func (h *Handlers) UserDisable(c fiber.Ctx) error { return h.setDisabled(c, true) }

// UserEnable enables a disabled account again.
func (h *Handlers) UserEnable(c fiber.Ctx) error { return h.setDisabled(c, false) }

func (h *Handlers) setDisabled(c fiber.Ctx, disabled bool) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Users.SetDisabled(c.Context(), staffweb.Actor(c), id, disabled); err != nil {
		return err
	}
	done := "enabled"
	if disabled {
		done = "disabled"
	}
	return web.Redirect(c, "/staff/users/"+strconv.FormatInt(id, 10)+"?done="+done)
}
