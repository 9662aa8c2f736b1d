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
// is random bits, an issue time and an HMAC over both and the session it is
// bound to. The storage "holds" a token exactly when its MAC verifies for the
// request's session and it is younger than MaxAge, so no shared store is
// needed and every instance accepts every other's tokens.
//
// The binding is the staff session cookie (empty before sign-in): a token
// planted in a browser, or one from before sign-in, is worthless once a
// session exists, and a new session (sign-in) gets a new token.
type CSRFTokens struct {
	Key    []byte
	MaxAge time.Duration
	Now    func() time.Time
}

// Generate returns a new signed token bound to no session.
func (t *CSRFTokens) Generate() string { return t.GenerateFor("") }

// GenerateFor returns a new signed token bound to binding (a session cookie).
func (t *CSRFTokens) GenerateFor(binding string) string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	body := base64.RawURLEncoding.EncodeToString(b) + "." + strconv.FormatInt(t.Now().Unix(), 36)
	return body + "." + t.mac(body, binding)
}

// Valid reports whether token is one of ours, bound to no session, and not too old.
func (t *CSRFTokens) Valid(token string) bool { return t.ValidFor(token, "") }

// ValidFor reports whether token is one of ours, bound to binding, and not too old.
func (t *CSRFTokens) ValidFor(token, binding string) bool {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return false
	}
	body, sig := token[:i], token[i+1:]
	if !hmac.Equal([]byte(sig), []byte(t.mac(body, binding))) {
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

func (t *CSRFTokens) mac(body, binding string) string {
	return base64.RawURLEncoding.EncodeToString(keys.Sum(t.Key, keys.CSRF, []byte(body+"\x00"+binding))[:18])
}

// fiber.Storage over the signed tokens: Get answers from the signature, writes
// are no-ops. The middleware passes the request as ctx, so the binding the
// CSRF wrapper put in Locals is at hand.
func (t *CSRFTokens) GetWithContext(ctx context.Context, key string) ([]byte, error) {
	b, _ := ctx.Value(localCSRFBinding).(bindings)
	if b.valid(t, key) {
		return []byte{1}, nil
	}
	return nil, nil
}

// bindings are the sessions a request's token may be bound to: the first is
// what new tokens get; a signed-out request also accepts a token bound to
// the session cookie it still sends (a page loaded before that session
// ended), which protects nothing less: only that browser knows the cookie.
type bindings []string

func (b bindings) valid(t *CSRFTokens, token string) bool {
	for _, v := range b {
		if t.ValidFor(token, v) {
			return true
		}
	}
	return len(b) == 0 && t.ValidFor(token, "")
}

func (b bindings) primary() string {
	if len(b) == 0 {
		return ""
	}
	return b[0]
}
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
	var mw fiber.Handler
	errorHandler := func(c fiber.Ctx, err error) error {
		// The refusal page carries forms too (language, sign-out): give
		// them the browser's token, or a new one when it has none valid.
		// Never for another site's request: it must not be able to replace
		// the cookie under the user's open pages.
		b := csrfBindings(c, secure)
		tok := c.Cookies(name)
		if !b.valid(tokens, tok) {
			if crossSite(c, err) {
				return onError(c, err)
			}
			tok = tokens.GenerateFor(b.primary())
			c.Cookie(&fiber.Cookie{Name: name, Value: tok, Path: "/", Secure: secure, HTTPOnly: true, SameSite: "Lax",
				Expires: tokens.Now().Add(tokens.MaxAge)})
		}
		c.Locals(localCSRF, tok)
		return onError(c, err)
	}
	mw = csrf.New(csrf.Config{
		Storage:        tokens,
		KeyGenerator:   tokens.Generate,
		CookieName:     name,
		CookieSecure:   secure,
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
		CookiePath:     "/",
		IdleTimeout:    tokens.MaxAge,
		Extractor:      extractors.Chain(extractors.FromHeader(csrf.HeaderName), extractors.FromForm(CSRFField)),
		ErrorHandler:   errorHandler,
		TrustedOrigins: trusted,
		Next:           isMachine,
	})
	return func(c fiber.Ctx) error {
		if isMachine(c) {
			return c.Next()
		}
		b := csrfBindings(c, secure)
		c.Locals(localCSRFBinding, b)
		switch c.Method() {
		case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
			// A token not bound to this session (none yet, one from before
			// sign-in, one planted by someone else) is replaced by a bound one
			// that the middleware then hands to the page and the cookie. On a
			// full page load, a token past half its life is replaced too; not
			// under htmx: the page's hx-headers would keep the old token.
			tok := c.Cookies(name)
			if !tokens.ValidFor(tok, b.primary()) ||
				(c.Get("HX-Request") != "true" && tokens.Age(tok, b.primary()) > tokens.MaxAge/2) {
				c.Request().Header.SetCookie(name, tokens.GenerateFor(b.primary()))
			}
		default:
			// "null" is the origin of sandboxed frames, data: URLs and some
			// redirects: never one of our pages. The middleware would let
			// it through as "no origin".
			if strings.EqualFold(strings.TrimSpace(c.Get(fiber.HeaderOrigin)), "null") {
				return errorHandler(c, csrf.ErrOriginInvalid)
			}
		}
		return mw(c)
	}
}

// isMachine: machine endpoints authenticate with bearer tokens, not cookies.
func isMachine(c fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/dicomweb/") || strings.HasPrefix(c.Path(), "/api/")
}

// csrfBindings is what this request's tokens are bound to: the staff session
// cookie of a signed-in user; when signed out (no cookie, or one naming a
// session that has ended: LoadUser, which runs first, found no user) no
// session, or the cookie the browser still sends.
func csrfBindings(c fiber.Ctx, secure bool) bindings {
	name := "radpass_staff" // NewSessions' name for the "staff" store
	if secure {
		name = "__Host-" + name
	}
	cookie := c.Cookies(name)
	if CurrentUser(c) != nil && cookie != "" {
		return bindings{cookie}
	}
	if cookie != "" {
		return bindings{"", cookie}
	}
	return bindings{""}
}

// localCSRFBinding holds the request's binding for the token storage.
const localCSRFBinding = "radpass.csrf.binding"

// Age is how long ago token was issued (0 when it is not one of ours for binding).
func (t *CSRFTokens) Age(token, binding string) time.Duration {
	if !t.ValidFor(token, binding) {
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
