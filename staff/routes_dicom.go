package staff

import "github.com/gofiber/fiber/v3"

// registerDICOM mounts the study detail and image routes (signed-in staff).
func (h *Handlers) registerDICOM(in fiber.Router) {}
