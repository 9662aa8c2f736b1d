package staff

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/web"
)

type signInData struct {
	Username string
	Next     string
}

// SignInForm shows the sign-in page (or sends a signed-in user on).
func (h *Handlers) SignInForm(c fiber.Ctx) error {
	if web.CurrentUser(c) != nil {
		return web.Redirect(c, "/staff/")
	}
	web.NoStore(c)
	return web.Render(c, http.StatusOK, "staff/signin", web.NewPage(c, "signin.title", signInData{Next: safeNext(c.Query("next"))}))
}

// SignIn checks the credentials. Every failure (unknown user, wrong password,
// disabled account) gets the same message; a locked account name says so only
// as "too many attempts", whether or not it exists.
func (h *Handlers) SignIn(c fiber.Ctx) error {
	ctx := c.Context()
	username := strings.ToLower(strings.TrimSpace(c.FormValue("username")))
	password := c.FormValue("password")
	data := signInData{Username: username, Next: safeNext(c.FormValue("next"))}
	page := web.NewPage(c, "signin.title", data)
	web.NoStore(c)
	if username == "" || password == "" || len(username) > 64 || len(password) > 1024 {
		page.AddError("form", "signin.error.wrong")
		return web.Render(c, http.StatusUnprocessableEntity, "staff/signin", page)
	}
	// Every limit reserves a slot before the password is checked (one step
	// under a per-key lock each), so parallel guesses cannot all slip past a
	// limit together, and 80 parallel sign-ins from one address cannot all
	// hash. Only failed checks keep their slot: a right password gives it
	// back, and while the slots are held by checks in flight a sign-in waits
	// for one rather than being refused, so a shift change behind one
	// hospital address is never locked out by its own correct sign-ins.
	// One address guessing across many account names is stopped first; its
	// refused tries do not count against the accounts it names.
	ip := c.IP()
	ipKey := auth.StaffIPKey(ip)
	// One budget for all the waiting (address slot, account slot, hash slot).
	deadline := time.Now().Add(auth.HashWait)
	left := func() time.Duration { return max(time.Until(deadline), time.Millisecond) }
	busy := func() error {
		c.Set(fiber.HeaderRetryAfter, "5")
		page.AddError("form", "signin.error.busy")
		return web.Render(c, http.StatusServiceUnavailable, "staff/signin", page)
	}
	if h.IPThrottle != nil {
		err := h.IPThrottle.Reserve(ctx, ipKey, left())
		switch {
		case errors.Is(err, auth.ErrLocked):
			h.record(ctx, c, audit.SignInLock, "refused-ip", nil, username)
			page.AddError("form", "error.toomany")
			return web.Render(c, http.StatusTooManyRequests, "staff/signin", page)
		case errors.Is(err, auth.ErrBusy):
			return busy()
		case err != nil:
			return err
		}
	}
	// The lock is per account name and address: wrong passwords typed
	// elsewhere never lock a radiographer out at their own workstation.
	key := auth.StaffPairKey(username, ip)
	ipHeld, keyHeld, failed, locked := h.IPThrottle != nil, false, false, false
	releaseKey := func(failed bool) error {
		keyHeld = false
		var err error
		locked, err = h.Throttle.Release(ctx, key, failed)
		return err
	}
	// Whatever happens below, the slots taken are given back; only a
	// wrong password counts.
	defer func() {
		if keyHeld {
			if err := releaseKey(false); err != nil {
				h.Log.WarnContext(ctx, "sign-in release failed", "error", err.Error())
			}
		}
		if ipHeld {
			if _, err := h.IPThrottle.Release(ctx, ipKey, failed); err != nil {
				h.Log.WarnContext(ctx, "sign-in release failed", "error", err.Error())
			}
		}
	}()
	err := h.Throttle.Reserve(ctx, key, left())
	switch {
	case errors.Is(err, auth.ErrLocked):
		h.record(ctx, c, audit.SignInLock, "refused", nil, username)
		page.AddError("form", "signin.error.locked")
		return web.Render(c, http.StatusTooManyRequests, "staff/signin", page)
	case errors.Is(err, auth.ErrBusy):
		return busy()
	case err != nil:
		return err
	}
	keyHeld = true
	// Across all addresses an account is only slowed down, never locked.
	acctKey := auth.StaffAccountKey(username)
	delay, err := h.Throttle.Slowdown(ctx, acctKey)
	if err != nil {
		return err
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			h.refund(ctx, acctKey)
			return ctx.Err()
		}
	}
	u, err := h.checkCredentials(ctx, username, password, left())
	if errors.Is(err, auth.ErrBusy) {
		// Not a failure of the user's: give every reserved try back.
		h.refund(ctx, acctKey)
		return busy()
	}
	if errors.Is(err, errNoUser) {
		failed = true
		if err := releaseKey(true); err != nil {
			return err
		}
		h.record(ctx, c, audit.SignInFail, "failed", u, username)
		if locked {
			page.AddError("form", "signin.error.locked")
			return web.Render(c, http.StatusTooManyRequests, "staff/signin", page)
		}
		page.AddError("form", "signin.error.wrong")
		return web.Render(c, http.StatusUnprocessableEntity, "staff/signin", page)
	}
	if err != nil {
		h.refund(ctx, acctKey)
		return err
	}
	h.refund(ctx, acctKey)
	if err := releaseKey(false); err != nil {
		return err
	}
	if err := h.Throttle.Reset(ctx, key); err != nil {
		return err
	}
	if u.MustChangePassword {
		// After a password reset: a new password first, then signed in.
		h.record(ctx, c, audit.SignIn, "password_change_required", u, username)
		return h.mustChangePassword(c, u.ID, data.Next)
	}
	// A new session id at sign-in: whatever id the browser had is discarded.
	s, err := h.Sessions.Renew(c)
	if err != nil {
		return err
	}
	s.Values[sessionUserID] = u.ID
	if err := h.Sessions.Save(c, s); err != nil {
		return err
	}
	h.record(ctx, c, audit.SignIn, "ok", u, username)
	return web.Redirect(c, data.Next)
}

// checkCredentials returns the user when the password matches an enabled
// account; errNoUser (with the user, if known) otherwise.
func (h *Handlers) checkCredentials(ctx context.Context, username, password string, wait time.Duration) (*store.User, error) {
	u := new(store.User)
	err := h.DB.NewSelect().Model(u).Where("username = ?", username).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		if err := auth.VerifyNoUser(ctx, password, wait); err != nil {
			return nil, err
		}
		return nil, errNoUser
	}
	if err != nil {
		return nil, err
	}
	ok, err := auth.Verify(ctx, password, u.PasswordHash, wait)
	if err != nil {
		return nil, err
	}
	if !ok || u.Disabled {
		return u, errNoUser
	}
	return u, nil
}

// refund gives back tries Slowdown counted (a success, or a try never
// checked). The answer does not depend on it, so a failure is only logged.
func (h *Handlers) refund(ctx context.Context, keys ...string) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range keys {
		if err := h.Throttle.Refund(ctx, k); err != nil {
			h.Log.WarnContext(ctx, "sign-in refund failed", "error", err.Error())
		}
	}
}

func (h *Handlers) record(ctx context.Context, c fiber.Ctx, action, outcome string, u *store.User, username string) {
	e := &audit.Event{Action: action, Outcome: outcome, ActorKind: "staff", ActorName: username, IP: c.IP()}
	if u != nil {
		e.ActorID = &u.ID
		e.DepartmentID = u.DepartmentID
	}
	if err := audit.Record(ctx, h.DB, e); err != nil {
		h.Log.ErrorContext(ctx, "audit write failed", "action", action, "error", err.Error())
	}
}
