package admin

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

type groupData struct {
	Group     *database.Group
	Name      string
	Members   []database.User
	Candidate []database.User // department users not in the group
}

// GroupShow shows a group: rename, delete, members.
func (h *Handlers) GroupShow(c fiber.Ctx) error {
	page := web.NewPage(c, "groups.group.title", nil)
	staffweb.Flash(c, page)
	return h.renderGroup(c, http.StatusOK, page, nil)
}

func (h *Handlers) renderGroup(c fiber.Ctx, status int, page *web.Page, name *string) error {
	u := web.CurrentUser(c)
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	g, err := h.Users.GetGroup(c.Context(), u, id)
	if err != nil {
		return err
	}
	members, err := h.Users.Members(c.Context(), g)
	if err != nil {
		return err
	}
	all, err := h.Users.List(c.Context(), u, &g.DepartmentID)
	if err != nil {
		return err
	}
	in := map[int64]bool{}
	for _, m := range members {
		in[m.ID] = true
	}
	data := groupData{Group: g, Name: g.Name, Members: members}
	if name != nil {
		data.Name = *name
	}
	for _, a := range all {
		if !in[a.ID] && !a.Disabled {
			data.Candidate = append(data.Candidate, a)
		}
	}
	page.Data = data
	return web.Render(c, status, "staff/group", page)
}
