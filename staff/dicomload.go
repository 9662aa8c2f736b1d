package staff

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/web"
)

// visibleInstance loads instance :id if the signed-in user may see its
// department; anything else is a 404, so other departments' ids reveal nothing.
func (h *Handlers) visibleInstance(c fiber.Ctx) (*buckets.InstanceRef, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, fiber.ErrNotFound
	}
	ref, err := h.Buckets.Instance(c.Context(), buckets.Staff(web.CurrentUser(c)), id)
	return ref, err
}
