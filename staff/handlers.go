// Package staff holds the staff-side handlers, one file per action. Each
// handler parses its form, validates, stores, then redirects or renders.
package staff

import (
	"log/slog"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
)

// Handlers carries what every staff handler needs.
type Handlers struct {
	DB       *bun.DB
	Sessions *web.Sessions
	Throttle *auth.Throttle
	// IPThrottle counts failed sign-ins per client address (nil: none).
	IPThrottle *auth.Throttle
	Log        *slog.Logger
	DICOM      *DICOMDeps
	Print      *PrintDeps
	Buckets    *buckets.Service
	// SignIns is the staff sign-in protocol (over Throttle and IPThrottle).
	SignIns *users.SignIns
	// Departments are the department settings, logos and the list.
	Departments departments.Service
	Users       users.Service
	Labels      labels.Service
	Audit       audit.Trail
	Viewer      viewer.Service
	Studies     *studies.Service
}

// Register mounts the staff routes. Everything under /staff except sign-in
// requires a signed-in, enabled user.
func (h *Handlers) Register(app *fiber.App) {
	g := app.Group("/staff")
	g.Get("/signin", h.SignInForm)
	g.Post("/signin", h.SignIn)
	g.Post("/signout", h.SignOut)
	h.registerPasswordChange(g)

	in := app.Group("/staff", h.RequireUser)
	in.Get("/", h.StudyList)
	h.registerStudies(in)
	h.registerPrint(in)
	h.registerDICOM(in)
	h.registerAdmin(in)
	h.registerStatusForwarding(in)
}
