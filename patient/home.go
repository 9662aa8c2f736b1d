package patient

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// Home is the landing page a patient reaches from the letter's QR code.
func (h *Handlers) Home(c fiber.Ctx) error {
	return web.Render(c, http.StatusOK, "patient/home", web.NewPage(c, "home.title", nil))
}
