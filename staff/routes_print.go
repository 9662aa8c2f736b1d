package staff

import "github.com/gofiber/fiber/v3"

// registerPrint mounts PRINT REFERENCE NUMBER: parameters, confirmation, letter (signed-in staff).
func (h *Handlers) registerPrint(in fiber.Router) {}
