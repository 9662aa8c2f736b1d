package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v3"
)

// Render writes template name with status. One rule decides partial versus
// full page: htmx (not boosted) requests get the fragment alone, everything
// else gets it inside its layout, so every page also works without JavaScript.
func Render(c fiber.Ctx, status int, name string, p *Page) error {
	c.Vary("HX-Request")
	c.Status(status)
	if p.HTMX {
		return execute(c, name, p)
	}
	return execute(c, name, p, layoutFor(name, p))
}

// RenderPartial writes a fragment without layout whatever the request is
// (e.g. a row refreshed by htmx that has no full-page form).
func RenderPartial(c fiber.Ctx, status int, name string, p *Page) error {
	c.Vary("HX-Request")
	c.Status(status)
	return execute(c, name, p)
}

// execute renders through the app's views (web.Views) directly, not
// c.Render: Fiber 3.1's Render fills a list of the app's mount prefixes
// lazily, on the first render, without a lock, so the first pages rendered
// in parallel after a start raced (go test -race caught it). We mount no
// sub-apps, so that list has nothing to add.
func execute(c fiber.Ctx, name string, p *Page, layouts ...string) error {
	views := c.App().Config().Views
	if views == nil {
		return errors.New("web: the app has no views engine")
	}
	buf := renderBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // a huge page's buffer is not kept
			buf.Reset()
			renderBufs.Put(buf)
		}
	}()
	if err := views.Render(buf, name, p, layouts...); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Response().SetBody(buf.Bytes()) // a copy: buf goes back to the pool (c.Send would keep it)
	return nil
}

var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

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

// NoStorePages is NoStore as middleware, for route groups whose every
// answer is private (a handler may still set its own Cache-Control).
func NoStorePages(c fiber.Ctx) error {
	NoStore(c)
	return c.Next()
}
