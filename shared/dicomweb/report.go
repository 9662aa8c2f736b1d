package dicomweb

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/web"
)

// ParseAvailableAt reads the embargo time: RFC 3339, or a date (midnight UTC).
// An empty value means "available at once".
func ParseAvailableAt(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, errors.New("available_at must be an RFC 3339 time or a YYYY-MM-DD date")
	}
	return &t, nil
}

// Report stores a study's report: POST /api/v1/studies/{uid}/report with a
// text/plain or application/pdf body, ?status=preliminary|final and an
// optional ?available_at= embargo.
func (h *Handler) Report(c fiber.Ctx) error {
	tok, body, ok, err := h.admit(c, ScopeReport, "the report is too large")
	defer web.FinishBody(c, body)
	if !ok {
		return err
	}
	at, err := ParseAvailableAt(c.Query("available_at"))
	if err != nil {
		return jsonError(c, http.StatusBadRequest, err.Error())
	}
	rep := ingest.Report{Status: c.Query("status"), AvailableAt: at}
	mt, params, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	switch mt {
	case "text/plain":
		if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
			return jsonError(c, http.StatusUnsupportedMediaType, "text reports must be UTF-8")
		}
		// One byte over the text limit is enough to refuse it.
		text, err := io.ReadAll(io.LimitReader(body, ingest.MaxReportText+1))
		if err != nil && !body.TooLarge() {
			return jsonError(c, http.StatusBadRequest, "the report could not be read to its end")
		}
		if body.TooLarge() {
			return jsonError(c, http.StatusRequestEntityTooLarge, "the report is too large")
		}
		rep.Text = string(text)
	case "application/pdf":
		// Streamed to storage; a body cut short or over the limit fails the
		// copy, and nothing is kept.
		rep.PDF = body
	default:
		return jsonError(c, http.StatusUnsupportedMediaType, "send text/plain; charset=utf-8 or application/pdf")
	}
	study, err := ingest.AttachReport(c.Context(), h.DB, h.Store, tok.DepartmentID, c.Params("study"), rep)
	switch {
	case errors.Is(err, ingest.ErrNotFound):
		return jsonError(c, http.StatusNotFound, "no such study")
	case body.TooLarge():
		return jsonError(c, http.StatusRequestEntityTooLarge, "the report is too large")
	case errors.Is(err, ingest.ErrReportRead):
		return jsonError(c, http.StatusBadRequest, "the report could not be read to its end")
	case errors.Is(err, ingest.ErrReportStatus), errors.Is(err, ingest.ErrReportEmpty),
		errors.Is(err, ingest.ErrReportText), errors.Is(err, ingest.ErrReportPDF):
		return jsonError(c, http.StatusBadRequest, err.Error())
	case err != nil:
		return h.internal(c, err)
	}
	if err := audit.Machine(tok.ID, tok.Name, c.IP()).Record(c.Context(), h.DB, audit.ReportUpload, &tok.DepartmentID,
		map[string]any{"study_id": study.ID, "status": study.ReportStatus, "pdf": study.ReportPDFKey != "", "embargo": at != nil}); err != nil {
		h.logError(c, "audit report", err)
	}
	out := fiber.Map{"study_uid": study.StudyUID, "status": study.ReportStatus, "available_at": nil}
	if study.ReportAvailableAt != nil {
		out["available_at"] = study.ReportAvailableAt.Format(time.RFC3339)
	}
	return c.JSON(out)
}
