package account

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// Session values of a sign-in that waits for the forced password change: the
// password was right, but the user is not signed in until they chose a new one.
const (
	sessionPwUser  = "pwchange_uid"
	sessionPwNext  = "pwchange_next"
	sessionPwSince = "pwchange_at"
	// pwChangeWindow is how long the change-password page stays open after
	// the sign-in that led to it.
	pwChangeWindow = 10 * time.Minute
)

type passwordData struct{ Min int }

// mustChangePassword is the sign-in hook: instead of signing the user in, it
// keeps them (in a fresh session) on the change-password page.
func (h *Handlers) mustChangePassword(c fiber.Ctx, uid int64, next string) error {
	s, err := h.Sessions.Renew(c)
	if err != nil {
		return err
	}
	s.Values[sessionPwUser] = uid
	s.Values[sessionPwNext] = next
	s.Values[sessionPwSince] = time.Now().UTC()
	if err := h.Sessions.Save(c, s); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/password")
}

// pendingChange returns the user waiting to change their password, or 0.
func (h *Handlers) pendingChange(c fiber.Ctx) (int64, string, error) {
	s, err := h.Sessions.Get(c)
	if err != nil {
		return 0, "", err
	}
	uid, _ := s.Values[sessionPwUser].(int64)
	at, _ := s.Values[sessionPwSince].(time.Time)
	next, _ := s.Values[sessionPwNext].(string)
	if uid == 0 || time.Since(at) > pwChangeWindow {
		return 0, "", nil
	}
	return uid, staffweb.SafeNext(next), nil
}

// PasswordForm asks for the new password after a reset.
func (h *Handlers) PasswordForm(c fiber.Ctx) error {
	uid, _, err := h.pendingChange(c)
	if err != nil {
		return err
	}
	if uid == 0 {
		return web.Redirect(c, "/staff/signin")
	}
	return web.Render(c, http.StatusOK, "staff/password", web.NewPage(c, "password.title", passwordData{Min: minPassword()}))
}

// PasswordChange stores the new password, then completes the sign-in.
func (h *Handlers) PasswordChange(c fiber.Ctx) error {
	uid, next, err := h.pendingChange(c)
	if err != nil {
		return err
	}
	if uid == 0 {
		return apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	u, err := h.Users.ChangePassword(c.Context(), uid, c.FormValue("password"), c.FormValue("repeat"), c.IP())
	page := web.NewPage(c, "password.title", passwordData{Min: minPassword()})
	if staffweb.FieldErrors(page, err) {
		return web.Render(c, http.StatusUnprocessableEntity, "staff/password", page)
	}
	if err != nil {
		return err
	}
	s, err := h.Sessions.Renew(c)
	if err != nil {
		return err
	}
	s.Values[staffweb.SessionUserID] = u.ID
	if err := h.Sessions.Save(c, s); err != nil {
		return err
	}
	return web.Redirect(c, next)
}

func minPassword() int { return auth.MinPasswordLength }
