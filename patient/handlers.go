// Package patient holds the patient-side handlers, one file per action. The
// sign-in with reference number, date of birth and one-time password comes
// with the patient-flow issue; for now the side serves its landing page.
package patient

import "github.com/gofiber/fiber/v3"

// Handlers carries what every patient handler needs.
type Handlers struct{}

// Register mounts the patient routes.
func (h *Handlers) Register(app *fiber.App) {
	app.Get("/", h.Home)
}
