package admin

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// userForm is the create-user form as typed (echoed back on errors; the
// password never is).
type userForm struct {
	Username, DisplayName, Email, Role, Language, Department string
}

type usersData struct {
	Users       []database.User
	Form        userForm
	Roles       []string
	Languages   []string
	ServiceDesk bool
	Departments []database.Department
	Department  string // the service desk's filter ("" = all)
}

// UsersList lists the accounts an admin manages (their department; the
// service desk all, or one department) with the create form.
func (h *Handlers) UsersList(c fiber.Ctx) error {
	page := web.NewPage(c, "users.title", nil)
	staffweb.Flash(c, page)
	return h.renderUsers(c, http.StatusOK, page, userForm{Role: database.RoleStaff, Department: c.Query("department")}, c.Query("department"))
}

func (h *Handlers) renderUsers(c fiber.Ctx, status int, page *web.Page, form userForm, filter string) error {
	u := web.CurrentUser(c)
	data := usersData{Form: form, Roles: []string{database.RoleStaff, database.RoleAdmin}, Languages: i18n.Languages}
	var dept *int64
	if u.IsServiceDesk() {
		data.ServiceDesk, data.Roles = true, users.Roles
		ds, err := h.Departments.List(c.Context())
		if err != nil {
			return err
		}
		data.Departments = ds
		if id, err := strconv.ParseInt(filter, 10, 64); err == nil && id > 0 {
			dept, data.Department = &id, filter
		}
	} else {
		dept = u.DepartmentID
	}
	list, err := h.Users.List(c.Context(), u, dept)
	if err != nil {
		return err
	}
	data.Users = list
	page.Data = data
	return web.Render(c, status, "staff/users", page)
}
