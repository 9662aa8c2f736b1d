package studylist

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/web"
)

// visibleInstance loads instance :id if the signed-in user may see its
// department; anything else is a 404, so other departments' ids reveal nothing.
func (h *Handlers) visibleInstance(c fiber.Ctx) (*buckets.InstanceRef, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	ref, err := h.Buckets.Instance(c.Context(), buckets.Staff(web.CurrentUser(c)), id)
	return ref, err
}
