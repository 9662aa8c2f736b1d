package admin

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

type groupsData struct {
	Dept        *database.Department
	Groups      []database.Group
	Name        string
	ServiceDesk bool
	Departments []database.Department
}

// GroupsList lists a department's groups with the create form (admins their
// own department; the service desk chooses).
func (h *Handlers) GroupsList(c fiber.Ctx) error {
	page := web.NewPage(c, "groups.title", nil)
	staffweb.Flash(c, page)
	return h.renderGroups(c, http.StatusOK, page, c.Query("department"), "")
}

// GroupCreate creates a group.
func (h *Handlers) GroupCreate(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, c.FormValue("department"))
	if err != nil {
		return err
	}
	g, err := h.Users.CreateGroup(c.Context(), staffweb.Actor(c), d.ID, c.FormValue("name"))
	page := web.NewPage(c, "groups.title", nil)
	if staffweb.FieldErrors(page, err) {
		return h.renderGroups(c, http.StatusUnprocessableEntity, page, c.FormValue("department"), c.FormValue("name"))
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, "/staff/groups/"+strconv.FormatInt(g.ID, 10)+"?done=created")
}

func (h *Handlers) renderGroups(c fiber.Ctx, status int, page *web.Page, asked, name string) error {
	u := web.CurrentUser(c)
	d, err := h.settingsDept(c, u, asked)
	if err != nil {
		return err
	}
	groups, err := h.Users.Groups(c.Context(), d.ID)
	if err != nil {
		return err
	}
	data := groupsData{Dept: d, Groups: groups, Name: name, ServiceDesk: u.IsServiceDesk()}
	if data.ServiceDesk {
		ds, err := h.Departments.List(c.Context())
		if err != nil {
			return err
		}
		data.Departments = ds
	}
	page.Data = data
	return web.Render(c, status, "staff/groups", page)
}
