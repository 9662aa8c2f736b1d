// Package staffweb is what every staff page needs: the services the
// handlers share (Deps), the signed-in user's guards (LoadUser, RequireUser,
// RequireAdmin), and the page helpers (audit actor, field errors, the
// confirmation after a redirect, the service desk's department choice).
// The staff pages themselves live in the sibling packages account,
// studylist, print, statusfw and admin, one file per action.
package staffweb

import (
	"log/slog"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/users"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
)

// Deps are the services and settings the staff handlers share. Each staff
// package's Handlers embeds a pointer to the one Deps the server builds.
type Deps struct {
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
	// Informed: the print form's notice choices and the settings page's count.
	Informed *informed.Service
}
