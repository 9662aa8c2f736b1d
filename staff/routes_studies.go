package staff

import "github.com/gofiber/fiber/v3"

// registerStudies mounts the study list search and the department settings (signed-in staff).
// The list itself is GET /staff/ (see Register).
func (h *Handlers) registerStudies(in fiber.Router) {
	in.Get("/settings", h.SettingsForm)
	in.Post("/settings", h.SaveSettings)
}
