package staff

import "github.com/gofiber/fiber/v3"

// registerStudies mounts the study list search and the department settings (signed-in staff).
func (h *Handlers) registerStudies(in fiber.Router) {}
