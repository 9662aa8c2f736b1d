package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// UserCreate creates an account with a starting password the admin tells the
// user; they must choose their own at the first sign-in.
func (h *Handlers) UserCreate(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	form := userForm{
		Username: c.FormValue("username"), DisplayName: c.FormValue("display_name"), Email: c.FormValue("email"),
		Role: c.FormValue("role"), Language: c.FormValue("language"), Department: strings.TrimSpace(c.FormValue("department")),
	}
	n := users.New{Username: form.Username, DisplayName: form.DisplayName, Email: form.Email, Role: form.Role,
		Language: form.Language, Password: c.FormValue("password"), MustChange: true}
	switch {
	case !u.IsServiceDesk():
		n.DepartmentID = u.DepartmentID // whatever the form says
	case form.Role != database.RoleServiceDesk && form.Department != "":
		if id, err := strconv.ParseInt(form.Department, 10, 64); err == nil && id > 0 {
			n.DepartmentID = &id
		}
	}
	created, err := h.Users.Create(c.Context(), staffweb.Actor(c), n)
	page := web.NewPage(c, "users.title", nil)
	if staffweb.FieldErrors(page, err) {
		return h.renderUsers(c, http.StatusUnprocessableEntity, page, form, "")
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/users/"+strconv.FormatInt(created.ID, 10)+"?done=created")
}
