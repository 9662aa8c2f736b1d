package staffweb

import (
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// Actor is the signed-in user as the author of an audited action.
func Actor(c fiber.Ctx) audit.Actor { return audit.Staff(web.CurrentUser(c), c.IP()) }

// FieldErrors puts the field problems of err on the page and reports whether
// there were any (then the handler answers 422 with its form).
func FieldErrors(p *web.Page, err error) bool {
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

// Flash sets the page's confirmation from ?done=.
func Flash(c fiber.Ctx, p *web.Page) {
	if k, ok := doneMessages[c.Query("done")]; ok {
		p.Flash = p.T(k)
	}
}

// DeptQuery is "?department=ID" for the service desk (who chooses), "" for admins.
func DeptQuery(u *database.User, id int64, sep string) string {
	if !u.IsServiceDesk() {
		return ""
	}
	return sep + "department=" + strconv.FormatInt(id, 10)
}

// ServiceDeskChoice fills the department choice the service desk's pages
// show (nothing for others).
func (h *Deps) ServiceDeskChoice(c fiber.Ctx, u *database.User, on *bool, list *[]database.Department) error {
	if !u.IsServiceDesk() {
		return nil
	}
	ds, err := h.Departments.List(c.Context())
	*on, *list = true, ds
	return err
}

// ParseDay reads an <input type="date"> value; a wrong one is reported on its field.
func ParseDay(p *web.Page, field, v string) *time.Time {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		p.AddError(field, "studylist.error.date")
		return nil
	}
	return &t
}
