package studylist

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/web"
)

// ReportPDF sends a study's PDF report to staff of its department
// (the embargo is for patients; staff read reports at once).
func (h *Handlers) ReportPDF(c fiber.Ctx) error {
	if h.DICOM == nil {
		return fiber.ErrNotFound
	}
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	u := web.CurrentUser(c)
	s, err := h.Buckets.Study(c.Context(), buckets.Staff(u), id)
	if err != nil {
		return err
	}
	if s.ReportPDFKey == "" {
		return fiber.ErrNotFound
	}
	blob, err := h.DICOM.Store.Open(c.Context(), s.ReportPDFKey)
	if err != nil {
		return err
	}
	if err := h.Audit.Record(c.Context(), audit.Staff(u, c.IP()).Event(audit.ReportView, &s.DepartmentID, map[string]any{"study_id": s.ID})); err != nil {
		blob.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="report-`+strconv.FormatInt(s.ID, 10)+`.pdf"`)
	return web.SendStream(c, blob, int(blob.Size()), web.DownloadMax)
}
