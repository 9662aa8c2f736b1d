package server

import (
	"net/url"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/web"
)

// setLanguage switches the display language: stored on the signed-in staff
// user, and in a cookie for anyone not signed in (patients, the sign-in page).
func setLanguage(db *bun.DB, secure bool) fiber.Handler {
	return func(c fiber.Ctx) error {
		lang := c.FormValue("lang")
		if !i18n.Valid(lang) {
			return apperr.New(apperr.Invalid, "error.language")
		}
		if u := web.CurrentUser(c); u != nil {
			if err := users.SetLanguage(c.Context(), db, u.ID, lang); err != nil {
				return err
			}
		}
		// Secure follows the configured public URL: behind a TLS proxy the
		// request itself looks like plain http.
		c.Cookie(&fiber.Cookie{
			Name: web.LangCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
			HTTPOnly: true, SameSite: "Lax", Secure: secure,
		})
		return web.Redirect(c, withoutLang(web.LocalPath(c.FormValue("back"), "/", "/")))
	}
}

// withoutLang drops a ?lang= from the page to return to: it names the
// language a link asked for (the letter's QR code carries it), and left in
// place it would override the choice just made.
func withoutLang(back string) string {
	u, err := url.Parse(back)
	if err != nil || !u.Query().Has("lang") {
		return back
	}
	q := u.Query()
	q.Del("lang")
	u.RawQuery = q.Encode()
	return u.String()
}
