// Package patient holds the patient-side handlers, one file per action: the
// sign-in with reference number and date of birth (signin.go), the one-time
// password (code.go), the bucket's studies (studies.go), the viewer
// (study.go, image.go), the report (report.go), the download (download.go)
// and sign-out. Every rule lives in shared/buckets; these are thin callers.
// The URLs, their guards and body limits are in shared/server/routes.go.
package patient

import (
	"log/slog"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
)

// Handlers carries what every patient handler needs.
type Handlers struct {
	Buckets  *buckets.Service
	Audit    audit.Trail      // views and downloads of patient data
	Viewer   viewer.Service   // the viewer pages
	Sessions *web.Sessions    // the patient cookie, its own idle and absolute limits
	Notify   buckets.Notifier // sends the one-time passwords (buckets.SendCode)
	// Shares sends the messages of shares with a doctor (link, codes).
	ShareSender buckets.ShareSender
	// BaseURL is the server's public address, the start of a share's link.
	BaseURL  string
	Store    storage.Store
	Renderer *dicom.Renderer
	Log      *slog.Logger
	// IPThrottle slows the refused sign-in tries of one address down, and
	// all tries past a server-wide ceiling (nil: none).
	IPThrottle *auth.AddressLimit
	// Informed is the activity list and the new-device alert (nil: off).
	Informed *informed.Service
	// Viewer links (links.go): Links nil turns them off; OHIFURL set offers
	// "Open in OHIF"; DICOMwebBase is the public base of the links.
	Links        *dicomweb.Links
	OHIFURL      string
	DICOMwebBase string
}
