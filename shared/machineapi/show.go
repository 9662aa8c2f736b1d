package machineapi

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
)

// Show is GET /api/v1/accesses/{id}: the access's state, validity and
// studies (never its number). Another department's access, or one printed
// at the desk, is 404.
func (h *Handler) Show(c fiber.Ctx) error {
	m, ok, err := h.admit(c)
	if !ok {
		return err
	}
	id, ok := h.accessID(c)
	if !ok {
		return h.notFound(c)
	}
	a, err := h.load(c, m, id)
	if errors.Is(err, buckets.ErrNotFound) {
		return h.notFound(c)
	}
	if err != nil {
		return h.internal(c, err)
	}
	return c.Status(http.StatusOK).JSON(a)
}

func (h *Handler) notFound(c fiber.Ctx) error {
	return h.problem(c, http.StatusNotFound, "not-found", "api.problem.notfound")
}
