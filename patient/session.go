package patient

import (
	"errors"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// Session values: the one bucket this session is bound to, and how far the
// patient got (birth date matched and a code is due, or fully signed in).
const (
	sessBucket = "bucket"
	sessStage  = "stage"
)

// The stages of a patient session, for RequireStage: StageCode after the
// birth date matched (the code page), StageIn once fully signed in.
const (
	StageCode = "code"
	StageIn   = "in"
)

// bucketOf is the request's bucket (set by RequireStage).
func bucketOf(c fiber.Ctx) *database.Bucket { return web.CurrentBucket(c) }

// RequireStage lets a request through only with a session at stage whose
// bucket still opens: active and within its validity. Every request
// re-checks, so a revoked, blocked or expired bucket ends the session at its
// next request (and the patient lands on the start page).
func (h *Handlers) RequireStage(stage string) fiber.Handler {
	return func(c fiber.Ctx) error {
		web.NoStore(c)
		s, err := h.Sessions.Get(c)
		if err != nil {
			return err
		}
		id, _ := s.Values[sessBucket].(int64)
		if id == 0 || s.Values[sessStage] != stage {
			return h.signedOut(c)
		}
		b, err := h.Buckets.Session(c.Context(), id)
		if errors.Is(err, buckets.ErrNotFound) || errors.Is(err, buckets.ErrNotActive) {
			if err := h.Sessions.Destroy(c); err != nil {
				return err
			}
			return h.signedOut(c)
		}
		if err != nil {
			return err
		}
		c.Locals(web.LocalBucket, b)
		return c.Next()
	}
}

// signedOut sends a page request to the start page and refuses anything else.
func (h *Handlers) signedOut(c fiber.Ctx) error {
	if c.Method() == fiber.MethodGet && !web.IsHTMX(c) {
		return web.Redirect(c, "/")
	}
	return apperr.New(apperr.Unauthorized, "error.unauthorized")
}

// startSessionTx binds a fresh session id to bucket b at stage (sign-in
// rotates the id, so a planted one is worthless) in the sign-in's
// transaction: the old session row goes and the new one is stored with the
// sign-in's audit row (queued on w), or neither is. The returned answer sets
// the cookie: call it once the transaction has committed.
func (h *Handlers) startSessionTx(c fiber.Ctx, tx bun.Tx, w *buckets.Batch, b *database.Bucket, stage string) (answer func(), err error) {
	return h.startSession(c, w, b, stage) // w is built on tx
}

// startSession is startSessionTx with the writes queued on w only (sent
// with the sign-in's own, buckets.SignInThen).
func (h *Handlers) startSession(c fiber.Ctx, w *buckets.Batch, b *database.Bucket, stage string) (answer func(), err error) {
	s, err := h.Sessions.Get(c) // loaded before the sign-in began
	if err != nil {
		return nil, err
	}
	st := *h.Sessions.Store
	st.DB, st.Queue = w.On(), w.Add
	if err := st.Regenerate(c.Context(), s); err != nil {
		return nil, err
	}
	for k := range s.Values {
		delete(s.Values, k)
	}
	opts := st.Options
	s.Options = &opts
	s.IsNew = true
	s.Values[sessBucket] = b.ID
	s.Values[sessStage] = stage
	return h.Sessions.SaveIn(c, s, w.On(), w.Add)
}

// SignOut destroys the server-side session.
func (h *Handlers) SignOut(c fiber.Ctx) error {
	if err := h.Sessions.Destroy(c); err != nil {
		return err
	}
	return web.Redirect(c, "/")
}

// patientActor names a bucket in the audit trail.
func patientName(b *database.Bucket) string { return "bucket:" + itoa(b.ID) }
