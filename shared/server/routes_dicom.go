package server

import "github.com/gofiber/fiber/v3"

// registerMachineRoutes mounts the token-authenticated machine endpoints
// (DICOMweb STOW-RS, report upload). They sit before CSRF and sessions.
func registerMachineRoutes(app *fiber.App, d Deps) error { return nil }
