package studylist

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/web"
)

// InstanceDownload sends the stored DICOM file as it arrived (also for
// transfer syntaxes the viewer cannot preview).
func (h *Handlers) InstanceDownload(c fiber.Ctx) error {
	if h.DICOM == nil {
		return fiber.ErrNotFound
	}
	ref, err := h.visibleInstance(c)
	if err != nil {
		return err
	}
	blob, err := h.DICOM.Store.Open(c.Context(), ref.StorageKey)
	if err != nil {
		return err
	}
	u := web.CurrentUser(c)
	if err := h.Audit.Record(c.Context(), audit.Staff(u, c.IP()).Event(audit.InstanceDownload, &ref.DepartmentID,
		map[string]any{"study_id": ref.StudyID, "instance_id": ref.ID})); err != nil {
		blob.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, "application/dicom")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+safeName(ref.SOPUID)+`.dcm"`)
	return web.SendStream(c, blob, int(blob.Size()), web.DownloadMax)
}

// safeName keeps digits and dots (a UID) for a file name.
func safeName(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch == '.' || (ch >= '0' && ch <= '9') {
			b = append(b, ch)
		}
	}
	if len(b) == 0 {
		return "instance"
	}
	return string(b)
}
