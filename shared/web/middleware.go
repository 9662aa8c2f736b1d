package web

import (
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/i18n"
)

// ContentSecurityPolicy allows no inline script or style and no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// SecurityHeaders sets the headers every response carries.
func SecurityHeaders(secure bool) fiber.Handler {
	return func(c fiber.Ctx) error {
		h := &c.Response().Header
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if secure {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return c.Next()
	}
}

// AccessLog writes one JSON line per request: request id, method, path (never
// the query string, which may hold a searched patient name), status, duration.
func AccessLog(log *slog.Logger) fiber.Handler {
	return func(c fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			// The error handler runs after us; record the status it will send.
			status = StatusOf(err)
		}
		path := c.Path()
		if strings.HasPrefix(path, "/static/") {
			return err
		}
		path = redactCapability(path)
		attrs := []slog.Attr{
			slog.String("request_id", c.RequestID()),
			slog.String("method", c.Method()),
			slog.String("path", LogPath(path)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", c.IP()),
		}
		if cid := ClientRequestID(c); cid != "" {
			attrs = append(attrs, slog.String("client_request_id", cid))
		}
		log.LogAttrs(c.Context(), slog.LevelInfo, "request", attrs...)
		return err
	}
}

// LangCookie remembers the language chosen before signing in.
const LangCookie = "radpass_lang"

// Language resolves the request's language: the signed-in user's setting,
// else the language cookie, else Accept-Language. Run it after authentication.
func Language() fiber.Handler {
	return func(c fiber.Ctx) error {
		c.Locals(LocalLang, ResolveLang(c))
		return c.Next()
	}
}

// ResolveLang applies the language rule to this request.
func ResolveLang(c fiber.Ctx) string {
	if u := CurrentUser(c); u != nil && i18n.Valid(u.Language) {
		return u.Language
	}
	if l := c.Cookies(LangCookie); i18n.Valid(l) {
		// i18n's own string, not the cookie's: that is a view of
		// fasthttp's request buffer, and the language outlives the
		// handler in translators handed to stream writers.
		for _, known := range i18n.Languages {
			if known == l {
				return known
			}
		}
	}
	return i18n.Match(c.Get(fiber.HeaderAcceptLanguage))
}

// redactCapability hides a viewer link's token (a capability) in a logged
// path: /dicomweb/l/rpv_… becomes /dicomweb/l/rpv_-.
func redactCapability(path string) string {
	const prefix = "/dicomweb/l/rpv_"
	if !strings.HasPrefix(path, prefix) {
		return path
	}
	rest := path[len(prefix):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return prefix + "-" + rest[i:]
	}
	return prefix + "-"
}
