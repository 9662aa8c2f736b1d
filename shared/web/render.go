package web

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v3"
)

// Render writes template name with status. One rule decides partial versus
// full page: htmx (not boosted) requests get the fragment alone, everything
// else gets it inside its layout, so every page also works without JavaScript.
func Render(c fiber.Ctx, status int, name string, p *Page) error {
	c.Vary("HX-Request")
	c.Status(status)
	if p.HTMX {
		return c.Render(name, p)
	}
	return c.Render(name, p, layoutFor(name, p))
}

// RenderPartial writes a fragment without layout whatever the request is
// (e.g. a row refreshed by htmx that has no full-page form).
func RenderPartial(c fiber.Ctx, status int, name string, p *Page) error {
	c.Vary("HX-Request")
	c.Status(status)
	return c.Render(name, p)
}

func layoutFor(name string, p *Page) string {
	if p.Layout != "" {
		return p.Layout
	}
	if strings.HasPrefix(name, "patient/") {
		return "layouts/patient"
	}
	return "layouts/staff"
}

// Redirect sends a post-redirect-get: 303 for plain forms, HX-Redirect for htmx
// (so htmx loads the new page as a whole instead of swapping it in).
func Redirect(c fiber.Ctx, to string) error {
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", to)
		return c.SendStatus(http.StatusNoContent)
	}
	return c.Redirect().Status(http.StatusSeeOther).To(to)
}

// NoStore marks a response that carries patient data as never cacheable.
func NoStore(c fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
}
