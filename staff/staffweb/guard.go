package staffweb

import (
	"net/url"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/web"
)

// SessionUserID is the session value that names the signed-in user.
const SessionUserID = "uid"

// LoadUser puts the signed-in user (if any) into the request; it never fails a
// request on its own, so public pages still render.
func (h *Deps) LoadUser(c fiber.Ctx) error {
	s, err := h.Sessions.Get(c)
	if err != nil {
		return err
	}
	id, ok := s.Values[SessionUserID].(int64)
	if !ok {
		return c.Next()
	}
	u, err := h.Users.Signed(c.Context(), id)
	if err != nil {
		return err
	}
	if u == nil {
		// Deleted or disabled account: its session ends here.
		_ = h.Sessions.Destroy(c)
		return c.Next()
	}
	c.Locals(web.LocalUser, u)
	c.Locals(web.LocalLang, web.ResolveLang(c))
	return c.Next()
}

// RequireUser sends anonymous requests to the sign-in page.
func (h *Deps) RequireUser(c fiber.Ctx) error {
	if web.CurrentUser(c) != nil {
		return c.Next()
	}
	if c.Method() != fiber.MethodGet {
		return apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	// After sign-in, come back to the page the user was on: for an htmx
	// request that is the page (HX-Current-URL), not the fragment it asked for.
	next := c.OriginalURL()
	if web.IsHTMX(c) {
		if cu, err := url.Parse(c.Get("HX-Current-URL")); err == nil && cu.Path != "" {
			next = cu.RequestURI()
		}
	}
	return web.Redirect(c, "/staff/signin?next="+url.QueryEscape(SafeNext(next)))
}

// RequireAdmin refuses plain staff (403): the administration pages are for
// department admins and the service desk. Mount it after RequireUser.
func RequireAdmin(c fiber.Ctx) error {
	if u := web.CurrentUser(c); u != nil && (u.IsAdmin() || u.IsServiceDesk()) {
		return c.Next()
	}
	return apperr.New(apperr.Forbidden, "error.forbidden")
}

// SafeNext keeps post-sign-in redirects on this site's staff area.
func SafeNext(next string) string { return web.LocalPath(next, "/staff/", "/staff/") }
