package account

import (
	"context"
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
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
	return web.Render(c, http.StatusOK, "staff/signin", web.NewPage(c, "signin.title", signInData{Next: staffweb.SafeNext(c.Query("next"))}))
}

// SignIn runs users.SignIn and maps its outcome to a page. Every failure
// (unknown user, wrong password, disabled account) gets the same message; a
// locked account name says so only as "too many attempts", whether or not
// it exists.
func (h *Handlers) SignIn(c fiber.Ctx) error {
	next := staffweb.SafeNext(c.FormValue("next"))
	res, err := h.SignIns.SignIn(c.Context(),
		users.SignInRequest{Username: c.FormValue("username"), Password: c.FormValue("password"), IP: c.IP()},
		func(u *database.User) error {
			// A new session id at sign-in: whatever id the browser had is discarded.
			s, err := h.Sessions.Renew(c)
			if err != nil {
				return err
			}
			s.Values[staffweb.SessionUserID] = u.ID
			return h.Sessions.Save(c, s)
		})
	if err != nil {
		return err
	}
	page := web.NewPage(c, "signin.title", signInData{Username: res.Username, Next: next})
	switch res.Outcome {
	case users.SignedIn:
		return web.Redirect(c, next)
	case users.MustChange:
		return h.mustChangePassword(c, res.User.ID, next)
	case users.AddressLocked:
		page.AddError("form", "error.toomany")
		return web.Render(c, http.StatusTooManyRequests, "staff/signin", page)
	case users.Locked:
		page.AddError("form", "signin.error.locked")
		return web.Render(c, http.StatusTooManyRequests, "staff/signin", page)
	case users.Busy:
		c.Set(fiber.HeaderRetryAfter, "5")
		page.AddError("form", "signin.error.busy")
		return web.Render(c, http.StatusServiceUnavailable, "staff/signin", page)
	default:
		page.AddError("form", "signin.error.wrong")
		return web.Render(c, http.StatusUnprocessableEntity, "staff/signin", page)
	}
}

// record audits a sign-in or sign-out step (users.SignIns.Record).
func (h *Handlers) record(ctx context.Context, c fiber.Ctx, action, outcome string, u *database.User, username string) {
	h.SignIns.Record(ctx, action, outcome, u, username, c.IP())
}
