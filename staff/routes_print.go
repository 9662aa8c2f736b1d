package staff

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// registerPrint mounts PRINT REFERENCE NUMBER: parameters, confirmation, letter (signed-in staff).
func (h *Handlers) registerPrint(in fiber.Router) {
	in.Get("/print", h.PrintForm)
	in.Post("/print", h.PrintSubmit)
	in.Get("/print/:id", h.PrintConfirm)
	in.Get("/print/:id/letter", web.SameOriginOnly, h.PrintLetter) // writes an audit row
}
