package staff

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// adminOnly refuses plain staff: the administration pages are for department
// admins and the service desk.
func adminOnly(u *database.User) error {
	if u == nil || (!u.IsAdmin() && !u.IsServiceDesk()) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return nil
}

// actor is the signed-in user as the author of an audited action.
func actor(c fiber.Ctx) audit.Actor { return audit.Staff(web.CurrentUser(c), c.IP()) }

// paramID reads a positive integer route parameter (404 otherwise).
func paramID(c fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.notfound")
	}
	return id, nil
}

// fieldErrors puts the field problems of err on the page and reports whether
// there were any (then the handler answers 422 with its form).
func fieldErrors(p *web.Page, err error) bool {
	if v, ok := apperr.AsFields(err); ok {
		for _, e := range v {
			p.AddError(e.Field, e.Key, e.Args...)
		}
		return len(v) > 0
	}
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code == apperr.Invalid && ae.Field != "" {
		p.AddError(ae.Field, ae.Key, ae.Args...)
		return true
	}
	return false
}

// doneMessages are the confirmations a redirect may ask for (?done=...).
var doneMessages = map[string]string{
	"created": "admin.done.created", "saved": "admin.done.saved", "deleted": "admin.done.deleted",
	"disabled": "admin.done.disabled", "enabled": "admin.done.enabled", "reset": "admin.done.reset",
}

// flash sets the page's confirmation from ?done=.
func flash(c fiber.Ctx, p *web.Page) {
	if k, ok := doneMessages[c.Query("done")]; ok {
		p.Flash = p.T(k)
	}
}

// deptQuery is "?department=ID" for the service desk (who chooses), "" for admins.
func deptQuery(u *database.User, id int64, sep string) string {
	if !u.IsServiceDesk() {
		return ""
	}
	return sep + "department=" + strconv.FormatInt(id, 10)
}

// serviceDeskChoice fills the department choice the service desk's pages
// show (nothing for others).
func (h *Handlers) serviceDeskChoice(c fiber.Ctx, u *database.User, on *bool, list *[]database.Department) error {
	if !u.IsServiceDesk() {
		return nil
	}
	ds, err := h.Departments.List(c.Context())
	*on, *list = true, ds
	return err
}
