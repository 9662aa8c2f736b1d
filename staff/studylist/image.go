package studylist

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
)

// Image sends one rendered frame: ?f=frame&w=window&size=N&fmt=png.
// Renderings are cached on disk on the server. The browser must not keep
// them (security requirement 12: files with patient data are no-store, and
// staff workstations are shared); the ETag still lets a client that asks
// with If-None-Match get a 304, and the access check runs on every view.
func (h *Handlers) Image(c fiber.Ctx) error {
	if h.DICOM == nil {
		return fiber.ErrNotFound
	}
	ref, err := h.visibleInstance(c)
	if err != nil {
		return err
	}
	// A rendered image is patient data: recorded once per series and half hour.
	u := web.CurrentUser(c)
	if err := h.Audit.RecordView(c.Context(), audit.Staff(u, c.IP()).Event(audit.SeriesView, &ref.DepartmentID,
		map[string]any{"study_id": ref.StudyID, "series_id": ref.SeriesID}), "series:"+strconv.FormatInt(ref.SeriesID, 10)); err != nil {
		return err
	}
	return viewer.SendImage(c, h.DICOM.Renderer, ref.StorageKey, ref.Frames)
}
