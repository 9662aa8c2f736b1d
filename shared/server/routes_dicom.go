package server

import (
	"path/filepath"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/staff"
)

// MachineBodyLimit bounds one STOW-RS or report request. The body is read
// only after the API token is checked, streamed part by part to storage.
const MachineBodyLimit = 64 << 20

// registerMachineRoutes mounts the token-authenticated machine endpoints
// (DICOMweb STOW-RS, report upload). They sit before CSRF and sessions. It
// also hands the staff handlers the DICOM storage and renderer.
func registerMachineRoutes(app *fiber.App, d Deps, sh *staff.Handlers) error {
	st, err := storage.NewFS(filepath.Join(d.Config.DataDir, "dicom"))
	if err != nil {
		return err
	}
	h := &dicomweb.Handler{DB: d.DB, Store: st, Log: d.Log, MaxBytes: MachineBodyLimit}
	h.Register(app)
	sh.DICOM = &staff.DICOMDeps{Store: st, Renderer: &dicom.Renderer{Store: st, CacheDir: filepath.Join(d.Config.DataDir, "cache")}}
	return nil
}
