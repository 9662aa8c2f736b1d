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
// The binding is the browser's sessions: the staff session cookie and the
// patient session cookie (each empty before sign-in). A token planted in a
// browser, or one from before a sign-in, is worthless once a session exists,
// and a new session (sign-in, staff or patient) gets a new token in the very
// response that starts it.
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

// bindings are the bindings a request's token may have: the first is what
// new tokens get; a request signed out of staff also accepts a token bound
// to the staff session cookie it still sends (a page loaded before that
// session ended), which protects nothing less: only that browser knows the
// cookie.
type bindings struct {
	list           []string
	staff, patient string // the cookies in the first binding
}

func (b bindings) valid(t *CSRFTokens, token string) bool {
	for _, v := range b.list {
		if t.ValidFor(token, v) {
			return true
		}
	}
	return false
}

func (b bindings) primary() string {
	if len(b.list) == 0 {
		return ""
	}
	return b.list[0]
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
	staffName, patientName := SessionCookieName("staff", secure), SessionCookieName("patient", secure)
	errorHandler := func(c fiber.Ctx, err error) error {
		// The refusal page carries forms too (language, sign-out): give
		// them the browser's token, or a new one when it has none valid.
		// Never for another site's request: it must not be able to replace
		// the cookie under the user's open pages.
		b := csrfBindings(c, staffName, patientName)
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
		b := csrfBindings(c, staffName, patientName)
		c.Locals(localCSRFBinding, b)
		c.Locals(localCSRFState, &csrfState{tokens: tokens, cookie: name, secure: secure,
			staffName: staffName, patientName: patientName, staff: b.staff, patient: b.patient})
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

// SafeMethod reports a request that changes nothing (GET, HEAD, OPTIONS,
// TRACE): CSRF hands it a token and checks none.
func SafeMethod(c fiber.Ctx) bool {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return true
	}
	return false
}

// OnSafe runs h for safe requests (SafeMethod) and passes the others on;
// OnUnsafe the other way round. The app-wide CSRF middleware runs OnSafe, so
// every page, a 404 too, gets its token; a form route checks the token in its
// own chain, after its body limit (the token may be in the body).
func OnSafe(h fiber.Handler) fiber.Handler {
	return func(c fiber.Ctx) error {
		if SafeMethod(c) {
			return h(c)
		}
		return c.Next()
	}
}

// OnUnsafe runs h for requests that are not SafeMethod (see OnSafe).
func OnUnsafe(h fiber.Handler) fiber.Handler {
	return func(c fiber.Ctx) error {
		if SafeMethod(c) {
			return c.Next()
		}
		return h(c)
	}
}

// isMachine: machine endpoints authenticate with bearer tokens, not cookies.
func isMachine(c fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/dicomweb/") || strings.HasPrefix(c.Path(), "/api/")
}

// csrfBindings is what this request's tokens are bound to (bind): the staff
// session cookie of a signed-in user, and the patient session cookie
// whenever the browser sends one. The patient session is checked later, by
// the patient routes; a cookie naming an ended one is still a secret only
// this browser knows, and a patient sign-in always sets a new cookie. When
// signed out of staff (no cookie, or one naming a session that has ended:
// LoadUser, which runs first, found no user) the staff part is empty, or the
// cookie the browser still sends.
func csrfBindings(c fiber.Ctx, staffName, patientName string) bindings {
	cookie, patient := c.Cookies(staffName), c.Cookies(patientName)
	if CurrentUser(c) != nil && cookie != "" {
		return bindings{list: []string{bind(cookie, patient)}, staff: cookie, patient: patient}
	}
	if cookie != "" {
		return bindings{list: []string{bind("", patient), bind(cookie, patient)}, patient: patient}
	}
	return bindings{list: []string{bind("", patient)}, patient: patient}
}

// bind is the binding of a token to a staff and a patient session cookie;
// with no patient session it is the staff cookie alone, as before patient
// sessions were bound (tokens already handed out stay valid).
func bind(staff, patient string) string {
	if patient == "" {
		return staff
	}
	return staff + "\x00patient\x00" + patient
}

// csrfState is what a response needs to hand out a token bound to a session
// that starts or ends during the request (SessionChanged).
type csrfState struct {
	tokens                 *CSRFTokens
	cookie                 string
	secure                 bool
	staffName, patientName string
	staff, patient         string // the bound cookies (staff: a signed-in user's only)
}

const localCSRFState = "radpass.csrf.state"

// HeaderCSRFToken on a response carries the token that replaced the page's:
// a session started or ended during the request. static/app.js puts it into
// the page's forms and hx-headers, which an htmx swap would leave behind.
const HeaderCSRFToken = "X-Csrf-Token"

// sessionChanged hands out a token bound to the request's sessions after the
// session cookie name was set to value ("" when it ended): the page this
// response renders, the cookie and the HeaderCSRFToken header all get it, so
// the next form works and a token from before is refused.
func sessionChanged(c fiber.Ctx, name, value string) {
	st, _ := c.Locals(localCSRFState).(*csrfState)
	if st == nil {
		return // before the CSRF middleware (LoadUser ending a session): it binds afresh
	}
	switch name {
	case st.staffName:
		st.staff = value
	case st.patientName:
		st.patient = value
	default:
		return
	}
	tok := st.tokens.GenerateFor(bind(st.staff, st.patient))
	c.Cookie(&fiber.Cookie{Name: st.cookie, Value: tok, Path: "/", Secure: st.secure, HTTPOnly: true, SameSite: "Lax",
		Expires: st.tokens.Now().Add(st.tokens.MaxAge)})
	c.Locals(localCSRF, tok)
	c.Set(HeaderCSRFToken, tok)
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

// CSRFToken returns the token for forms on this request: the one handed out
// when a session started or ended during it, else the middleware's.
func CSRFToken(c fiber.Ctx) string {
	if t, _ := c.Locals(localCSRF).(string); t != "" {
		return t
	}
	return csrf.TokenFromContext(c)
}
