package web

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
)

// SameOriginOnly refuses requests another site started (Sec-Fetch-Site
// cross-site or same-site): pages and files with patient data write audit
// rows and must not be reachable by a link or an <img> on a foreign page
// while SameSite=Lax cookies ride along. Browsers without the header (old
// ones, curl) are let through: the header only ever removes access.
func SameOriginOnly(c fiber.Ctx) error {
	if site := c.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return c.Next()
}
