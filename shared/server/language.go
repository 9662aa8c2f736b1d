package server

import (
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/i18n"
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
			if _, err := db.NewUpdate().Table("users").Set("language = ?", lang).Where("id = ?", u.ID).Exec(c.Context()); err != nil {
				return err
			}
		}
		// Secure follows the configured public URL: behind a TLS proxy the
		// request itself looks like plain http.
		c.Cookie(&fiber.Cookie{
			Name: web.LangCookie, Value: lang, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
			HTTPOnly: true, SameSite: "Lax", Secure: secure,
		})
		return web.Redirect(c, web.LocalPath(c.FormValue("back"), "/", "/"))
	}
}
