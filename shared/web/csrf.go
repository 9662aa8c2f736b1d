package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/extractors"
	"github.com/gofiber/fiber/v3/middleware/csrf"

	"github.com/radpass/radpass/shared/keys"
)

// CSRFTokens makes Fiber's csrf middleware stateless across instances: a token
// is random bits, an issue time and an HMAC over both. The storage "holds" a
// token exactly when its MAC verifies and it is younger than MaxAge, so no
// shared store is needed and every instance accepts every other's tokens.
type CSRFTokens struct {
	Key    []byte
	MaxAge time.Duration
	Now    func() time.Time
}

// Generate returns a new signed token.
func (t *CSRFTokens) Generate() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	body := base64.RawURLEncoding.EncodeToString(b) + "." + strconv.FormatInt(t.Now().Unix(), 36)
	return body + "." + t.mac(body)
}

// Valid reports whether token is one of ours and not too old.
func (t *CSRFTokens) Valid(token string) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	body, sig := token[:i], token[i+1:]
	if !hmac.Equal([]byte(sig), []byte(t.mac(body))) {
		return false
	}
	j := strings.LastIndexByte(body, '.')
	ts, err := strconv.ParseInt(body[j+1:], 36, 64)
	if err != nil {
		return false
	}
	age := t.Now().Sub(time.Unix(ts, 0))
	return age >= -time.Minute && age < t.MaxAge
}

func (t *CSRFTokens) mac(body string) string {
	return base64.RawURLEncoding.EncodeToString(keys.Sum(t.Key, keys.CSRF, []byte(body))[:18])
}

// fiber.Storage over the signed tokens: Get answers from the signature, writes are no-ops.
func (t *CSRFTokens) GetWithContext(_ context.Context, key string) ([]byte, error) { return t.Get(key) }
func (t *CSRFTokens) Get(key string) ([]byte, error) {
	// The middleware stores entries under the token itself.
	if t.Valid(key) {
		return []byte{1}, nil
	}
	return nil, nil
}
func (t *CSRFTokens) SetWithContext(context.Context, string, []byte, time.Duration) error { return nil }
func (t *CSRFTokens) Set(string, []byte, time.Duration) error                             { return nil }
func (t *CSRFTokens) DeleteWithContext(context.Context, string) error                     { return nil }
func (t *CSRFTokens) Delete(string) error                                                 { return nil }
func (t *CSRFTokens) ResetWithContext(context.Context) error                              { return nil }
func (t *CSRFTokens) Reset() error                                                        { return nil }
func (t *CSRFTokens) Close() error                                                        { return nil }

// CSRFField is the hidden form field name; htmx sends the X-Csrf-Token header.
const CSRFField = "_csrf"

// CSRF returns Fiber's csrf middleware configured for RadPass: double-submit
// cookie checked against the form field or header, Origin/Referer checks, and
// a translated 403 page on failure. trusted lists extra allowed origins
// ("https://portal.example.org"): behind a TLS-terminating proxy the request
// looks like http to us while the browser's Origin says https, so the public
// base URL must be trusted explicitly or every form would be refused.
func CSRF(key []byte, secure bool, onError fiber.ErrorHandler, trusted ...string) fiber.Handler {
	// Tokens live 24 h and a page is only ever given one with at least 12 h
	// left: the middleware reuses the cookie's token on every GET, so a token
	// living exactly as long as a staff session (12 h) would make forms loaded
	// late in a shift fail just before it ends.
	tokens := &CSRFTokens{Key: key, MaxAge: 24 * time.Hour, Now: time.Now}
	name := "radpass_csrf"
	if secure {
		name = "__Host-radpass_csrf"
	}
	mw := csrf.New(csrf.Config{
		Storage:        tokens,
		KeyGenerator:   tokens.Generate,
		CookieName:     name,
		CookieSecure:   secure,
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
		CookiePath:     "/",
		IdleTimeout:    tokens.MaxAge,
		Extractor:      extractors.Chain(extractors.FromHeader(csrf.HeaderName), extractors.FromForm(CSRFField)),
		ErrorHandler: func(c fiber.Ctx, err error) error {
			// The refusal page carries forms too (language, sign-out): give
			// them the browser's token, or a new one when it has none valid.
			// Never for another site's request: it must not be able to replace
			// the cookie under the user's open pages.
			tok := c.Cookies(name)
			if !tokens.Valid(tok) {
				if crossSite(c, err) {
					return onError(c, err)
				}
				tok = tokens.Generate()
				c.Cookie(&fiber.Cookie{Name: name, Value: tok, Path: "/", Secure: secure, HTTPOnly: true, SameSite: "Lax",
					Expires: tokens.Now().Add(tokens.MaxAge)})
			}
			c.Locals(localCSRF, tok)
			return onError(c, err)
		},
		TrustedOrigins: trusted,
		Next: func(c fiber.Ctx) bool {
			// Machine endpoints authenticate with bearer tokens, not cookies.
			return strings.HasPrefix(c.Path(), "/dicomweb/") || strings.HasPrefix(c.Path(), "/api/")
		},
	})
	return func(c fiber.Ctx) error {
		// On a full page load, a token past half its life is dropped from the
		// request so the middleware hands out a fresh one. Not under htmx: the
		// page's hx-headers would keep the old token and no longer match.
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead:
			if c.Get("HX-Request") == "true" {
				break
			}
			if tok := c.Cookies(name); tok != "" && tokens.Age(tok) > tokens.MaxAge/2 {
				c.Request().Header.DelCookie(name)
			}
		}
		return mw(c)
	}
}

// Age is how long ago token was issued (0 when it is not one of ours).
func (t *CSRFTokens) Age(token string) time.Duration {
	if !t.Valid(token) {
		return 0
	}
	body := token[:strings.LastIndexByte(token, '.')]
	ts, _ := strconv.ParseInt(body[strings.LastIndexByte(body, '.')+1:], 36, 64)
	return t.Now().Sub(time.Unix(ts, 0))
}

// crossSite reports a request the browser or the middleware saw come from
// another site.
func crossSite(c fiber.Ctx, err error) bool {
	return strings.EqualFold(c.Get(fiber.HeaderSecFetchSite), "cross-site") ||
		errors.Is(err, csrf.ErrOriginNoMatch) || errors.Is(err, csrf.ErrOriginInvalid) ||
		errors.Is(err, csrf.ErrRefererNoMatch) || errors.Is(err, csrf.ErrRefererInvalid) || errors.Is(err, csrf.ErrFetchSiteInvalid)
}

// localCSRF holds the token handed to a page that refuses a request.
const localCSRF = "radpass.csrf"

// CSRFToken returns the token for forms on this request.
func CSRFToken(c fiber.Ctx) string {
	if t := csrf.TokenFromContext(c); t != "" {
		return t
	}
	t, _ := c.Locals(localCSRF).(string)
	return t
}
