package staff

import "github.com/gofiber/fiber/v3"

// registerPasswordChange mounts the forced password change after a reset: it
// is reached before the sign-in completes, so it must be mounted before the
// signed-in group's middleware.
func (h *Handlers) registerPasswordChange(out fiber.Router) {
	out.Get("/password", h.PasswordForm)
	out.Post("/password", h.PasswordChange)
}

// registerAdmin mounts the administration pages (users, groups, labels, audit
// trail) and the label actions of the study list. Each handler checks the
// role itself: plain staff get 403, another department's objects 404.
func (h *Handlers) registerAdmin(in fiber.Router) {
	in.Get("/users", h.UsersList)
	in.Post("/users", h.UserCreate)
	in.Get("/users/:id<int>", h.UserShow)
	in.Post("/users/:id<int>/disable", h.UserDisable)
	in.Post("/users/:id<int>/enable", h.UserEnable)
	in.Post("/users/:id<int>/reset", h.UserReset)

	in.Get("/groups", h.GroupsList)
	in.Post("/groups", h.GroupCreate)
	in.Get("/groups/:id<int>", h.GroupShow)
	in.Post("/groups/:id<int>/rename", h.GroupRename)
	in.Post("/groups/:id<int>/delete", h.GroupDelete)
	in.Post("/groups/:id<int>/members", h.GroupMemberAdd)
	in.Post("/groups/:id<int>/members/:uid<int>/remove", h.GroupMemberRemove)

	in.Get("/labels", h.LabelsList)
	in.Post("/labels", h.LabelCreate)
	in.Post("/labels/:id<int>", h.LabelUpdate)
	in.Post("/labels/:id<int>/delete", h.LabelDelete)
	in.Post("/studies/:id<int>/labels", h.StudyLabelAdd)
	in.Post("/studies/:id<int>/labels/:sl<int>/remove", h.StudyLabelRemove)

	in.Post("/settings/logo", h.SettingsLogo)
	in.Post("/settings/logo/delete", h.SettingsLogoDelete)
	in.Get("/settings/logo", h.SettingsLogoImage)

	in.Get("/audit", h.AuditTrail)
	in.Get("/audit.csv", h.AuditCSV)
}
