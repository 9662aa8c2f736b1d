package web

import (
	"net/http"

	"github.com/gofiber/fiber/v3"
	"github.com/gorilla/sessions"
	"github.com/uptrace/bun"
)

// Sessions adapts a gorilla/sessions store to Fiber (which speaks fasthttp):
// the request is converted to net/http for reading, and the Set-Cookie
// headers the store writes are copied back into Fiber's response.
type Sessions struct {
	Store *PGStore
	Name  string // cookie name, "__Host-" prefixed when served over HTTPS
}

// NewSessions names the cookie after kind with the __Host- prefix on HTTPS.
func NewSessions(store *PGStore) *Sessions {
	return &Sessions{Store: store, Name: SessionCookieName(store.Kind, store.Secure)}
}

// SessionCookieName is the cookie of the sessions of kind ("staff",
// "patient"): CSRF tokens are bound to these two.
func SessionCookieName(kind string, secure bool) string {
	if secure {
		return "__Host-radpass_" + kind
	}
	return "radpass_" + kind
}

type sessionLocalKey string

// Get returns this request's session, loading it once per request.
func (m *Sessions) Get(c fiber.Ctx) (*sessions.Session, error) {
	key := sessionLocalKey(m.Name)
	if s, ok := c.Locals(key).(*sessions.Session); ok {
		return s, nil
	}
	s, err := m.Store.Get(cookieRequest(c), m.Name)
	if err != nil {
		return nil, err
	}
	c.Locals(key, s)
	return s, nil
}

// Save writes the session and its cookie.
func (m *Sessions) Save(c fiber.Ctx, s *sessions.Session) error {
	answer, err := m.save(c, s, m.Store)
	if err != nil {
		return err
	}
	answer()
	return nil
}

// cookieRequest is the request as the session store sees it: its cookies
// and context, never its body (LoadUser runs before a route's body limit).
func cookieRequest(c fiber.Ctx) *http.Request {
	r := &http.Request{Method: c.Method(), Header: http.Header{}}
	if v := c.Get(fiber.HeaderCookie); v != "" {
		r.Header.Set(fiber.HeaderCookie, v)
	}
	return r.WithContext(c.Context())
}

// save stores s through st and returns what tells the browser: the
// Set-Cookie headers, and the CSRF token's follow-up when a session started
// (new id) or ended.
func (m *Sessions) save(c fiber.Ctx, s *sessions.Session, st *PGStore) (answer func(), err error) {
	w := cookieWriter{h: http.Header{}}
	if err := st.Save(cookieRequest(c), w, s); err != nil {
		return nil, err
	}
	return func() {
		set := w.h.Values("Set-Cookie")
		for _, v := range set {
			c.Response().Header.Add("Set-Cookie", v)
		}
		if len(set) > 0 {
			value := s.ID
			if s.Options != nil && s.Options.MaxAge < 0 {
				value = ""
			}
			sessionChanged(c, m.Name, value)
		}
	}, nil
}

// SaveWith writes the session through db, e.g. the caller's transaction: code
// inside a transaction must never take a second connection from the pool.
func (m *Sessions) SaveWith(c fiber.Ctx, s *sessions.Session, db bun.IDB) error {
	st := *m.Store
	st.DB = db
	return (&Sessions{Store: &st, Name: m.Name}).Save(c, s)
}

// Renew starts a fresh session id keeping nothing of the old one (sign-in).
func (m *Sessions) Renew(c fiber.Ctx) (*sessions.Session, error) {
	s, err := m.Get(c)
	if err != nil {
		return nil, err
	}
	if err := m.Store.Regenerate(c.Context(), s); err != nil {
		return nil, err
	}
	for k := range s.Values {
		delete(s.Values, k)
	}
	// A session destroyed earlier in this request (e.g. a disabled user's)
	// must be stored again, not deleted: start from the store's options.
	opts := m.Store.Options
	s.Options = &opts
	s.IsNew = true
	return s, nil
}

// Destroy deletes the server-side session and expires the cookie (sign-out).
func (m *Sessions) Destroy(c fiber.Ctx) error {
	s, err := m.Get(c)
	if err != nil {
		return err
	}
	for k := range s.Values {
		delete(s.Values, k)
	}
	s.Options.MaxAge = -1
	return m.Save(c, s)
}

// cookieWriter is the minimal http.ResponseWriter a sessions.Store needs.
type cookieWriter struct{ h http.Header }

func (w cookieWriter) Header() http.Header         { return w.h }
func (w cookieWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w cookieWriter) WriteHeader(int)             {}
