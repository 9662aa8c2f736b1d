package patient

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// reportView is the report page.
type reportView struct {
	Study *database.Study
	Name  string
}

// Report shows a study's report. The route itself answers 404 unless the
// bucket's scope includes the report, the bucket is not anonymized, the
// report is final and its "available for patient" time has passed.
func (h *Handlers) Report(c fiber.Ctx) error {
	st, err := h.reportStudy(c)
	if err != nil {
		return err
	}
	b := bucketOf(c)
	if err := h.recordView(c, b, audit.ReportView, "report:"+itoa(st.ID), map[string]any{"study_id": st.ID}); err != nil {
		return err
	}
	p := web.NewPage(c, "patient.report.title", nil)
	p.Data = reportView{Study: st, Name: displayName(p, b)}
	return web.Render(c, http.StatusOK, "patient/report", p)
}

// ReportPDF sends the report's PDF under the same rule.
func (h *Handlers) ReportPDF(c fiber.Ctx) error {
	st, err := h.reportStudy(c)
	if err != nil {
		return err
	}
	if st.ReportPDFKey == "" || h.Store == nil {
		return fiber.ErrNotFound
	}
	blob, err := h.Store.Open(c.Context(), st.ReportPDFKey)
	if err != nil {
		return err
	}
	b := bucketOf(c)
	if err := h.recordView(c, b, audit.ReportView, "report:"+itoa(st.ID), map[string]any{"study_id": st.ID, "pdf": true}); err != nil {
		blob.Close()
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="report.pdf"`)
	return web.SendStream(c, blob, int(blob.Size()), web.DownloadMax)
}

func (h *Handlers) reportStudy(c fiber.Ctx) (*database.Study, error) {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, err
	}
	st, err := h.Buckets.Report(c.Context(), viewerOf(c), id)
	return st, err
}
