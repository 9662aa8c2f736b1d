package staff

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/dicom"
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
	frame, err := strconv.Atoi(c.Query("f", "0"))
	if err != nil || frame < 0 || frame >= max(ref.Frames, 1) {
		return fiber.ErrNotFound
	}
	size, err := strconv.Atoi(c.Query("size", "0"))
	if err != nil || size < 0 || size > dicom.MaxSize {
		return apperr.New(apperr.Invalid, "dicom.error.size")
	}
	// A rendered image is patient data: recorded once per series and half hour.
	u := web.CurrentUser(c)
	if err := audit.RecordView(c.Context(), h.DB, &audit.Event{Action: audit.SeriesView, ActorKind: "staff", ActorID: &u.ID,
		ActorName: u.Username, DepartmentID: &ref.DepartmentID, IP: c.IP(),
		Details: map[string]any{"study_id": ref.StudyID, "series_id": ref.SeriesID}}, "series:"+strconv.FormatInt(ref.SeriesID, 10)); err != nil {
		return err
	}
	res, err := h.DICOM.Renderer.Render(c.Context(), dicom.Request{
		StorageKey: ref.StorageKey, Frame: frame, Window: c.Query("w"), Size: size,
		PNG: c.Query("fmt") == "png", Lang: web.Lang(c),
	})
	switch {
	case errors.Is(err, dicom.ErrBadWindow):
		return apperr.New(apperr.Invalid, "dicom.error.window")
	case errors.Is(err, dicom.ErrFrame):
		return fiber.ErrNotFound
	case err != nil:
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderETag, res.ETag)
	c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	if c.Get(fiber.HeaderIfNoneMatch) == res.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, res.ContentType)
	return c.Send(res.Data)
}
