package dicomweb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
)

// Handler serves the token-authenticated machine endpoints.
type Handler struct {
	DB       *bun.DB
	Store    storage.Store
	Log      *slog.Logger
	MaxBytes int64 // request body limit (413 above it)
}

// Register mounts the routes. They must sit before CSRF and sessions: a
// PACS has neither.
func (h *Handler) Register(r fiber.Router) {
	r.Post("/dicomweb/studies", h.Stow)
	r.Post("/dicomweb/studies/:study", h.Stow)
	r.Post("/api/v1/studies/:study/report", h.Report)
}

// DICOM JSON (PS3.18 F.2) attributes of the STOW-RS response.
const (
	tagFailedSOPSeq         = "00081198"
	tagReferencedSOPSeq     = "00081199"
	tagReferencedSOPClass   = "00081150"
	tagReferencedSOPInst    = "00081155"
	tagFailureReason        = "00081197"
	tagWarningReason        = "00081196"
	failureProcessing       = 0x0110 // processing failure
	failureCannotUnderstand = 0xC000 // cannot understand (not DICOM, broken)
	failureStudyMismatch    = 0xC409 // study instance UID does not match / not ours
)

type attr struct {
	VR    string `json:"vr"`
	Value []any  `json:"Value,omitempty"`
}

type dataset map[string]attr

func ui(v string) attr { return attr{VR: "UI", Value: []any{v}} }
func us(v int) attr    { return attr{VR: "US", Value: []any{v}} }
func sq(items []dataset) attr {
	v := make([]any, len(items))
	for i, it := range items {
		v[i] = it
	}
	return attr{VR: "SQ", Value: v}
}

// jsonError answers a request-level failure (before any instance was looked at).
func jsonError(c fiber.Ctx, status int, msg string) error {
	if status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="radpass"`)
	}
	return c.Status(status).JSON(fiber.Map{"error": msg})
}

func (h *Handler) auth(c fiber.Ctx) (*APIToken, error) {
	t, err := Authenticate(c.Context(), h.DB, c.Get(fiber.HeaderAuthorization))
	if err != nil && !errors.Is(err, ErrBadToken) {
		return nil, err
	}
	return t, err
}

func (h *Handler) tooLarge(c fiber.Ctx) bool {
	return h.MaxBytes > 0 && (int64(c.Request().Header.ContentLength()) > h.MaxBytes || int64(len(c.Body())) > h.MaxBytes)
}

// admit runs the checks every API request starts with: a valid token (401),
// then the body size (413, saying tooLargeMsg). When ok is false the refusal
// has been answered and err is what the handler returns.
func (h *Handler) admit(c fiber.Ctx, tooLargeMsg string) (tok *APIToken, ok bool, err error) {
	tok, err = h.auth(c)
	if errors.Is(err, ErrBadToken) {
		return nil, false, jsonError(c, http.StatusUnauthorized, "missing or invalid API token")
	}
	if err != nil {
		return nil, false, h.internal(c, err)
	}
	if h.tooLarge(c) {
		return nil, false, jsonError(c, http.StatusRequestEntityTooLarge, tooLargeMsg)
	}
	return tok, true, nil
}

// Stow stores the instances of a multipart/related; type="application/dicom"
// body and answers per PS3.18 10.5: 200 all stored, 202 some failed, 409 none
// stored, 400 malformed, 401 bad token, 413 too large, 415 wrong media type.
func (h *Handler) Stow(c fiber.Ctx) error {
	tok, ok, err := h.admit(c, fmt.Sprintf("the request is larger than %d bytes", h.MaxBytes))
	if !ok {
		return err
	}
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != "multipart/related" {
		return jsonError(c, http.StatusUnsupportedMediaType, `expected multipart/related; type="application/dicom"`)
	}
	if typ := strings.ToLower(params["type"]); typ != "" && typ != "application/dicom" {
		return jsonError(c, http.StatusUnsupportedMediaType, "only application/dicom parts are supported")
	}
	if params["boundary"] == "" {
		return jsonError(c, http.StatusBadRequest, "the multipart boundary is missing")
	}
	studyUID := c.Params("study")
	im := &ingest.Importer{DB: h.DB, Store: h.Store, DepartmentID: tok.DepartmentID, Log: h.Log}
	var opts []ingest.Option
	if studyUID != "" {
		opts = append(opts, ingest.WithStudy(studyUID))
	}
	var refs, fails []dataset
	var sum ingest.Summary
	mr := multipart.NewReader(bytes.NewReader(c.Body()), params["boundary"])
	parts, malformed := 0, false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			malformed = true
			break
		}
		parts++
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt != "" && pt != "application/dicom" {
			fails = append(fails, dataset{tagFailureReason: us(failureCannotUnderstand)})
			sum.Rejected = append(sum.Rejected, ingest.Rejection{Name: "part " + strconv.Itoa(parts), Reason: "not application/dicom"})
			p.Close()
			continue
		}
		r := im.Import(c.Context(), "part "+strconv.Itoa(parts), p, opts...)
		p.Close()
		sum.Add(r)
		switch r.Outcome {
		case ingest.Added:
			refs = append(refs, dataset{tagReferencedSOPClass: ui(r.SOPClassUID), tagReferencedSOPInst: ui(r.SOPInstanceUID)})
		case ingest.AlreadyPresent:
			// Idempotent: the copy stored before stands, and counts as stored.
			refs = append(refs, dataset{tagReferencedSOPClass: ui(r.SOPClassUID), tagReferencedSOPInst: ui(r.SOPInstanceUID)})
		case ingest.Rejected:
			item := dataset{tagFailureReason: us(failureReason(r.Code))}
			if r.SOPInstanceUID != "" {
				item[tagReferencedSOPClass] = ui(r.SOPClassUID)
				item[tagReferencedSOPInst] = ui(r.SOPInstanceUID)
			}
			fails = append(fails, item)
		}
	}
	if parts == 0 {
		return jsonError(c, http.StatusBadRequest, "malformed multipart body: no DICOM part found")
	}
	if malformed {
		fails = append(fails, dataset{tagFailureReason: us(failureCannotUnderstand)})
		sum.Rejected = append(sum.Rejected, ingest.Rejection{Name: "body", Reason: "malformed multipart"})
	}
	status, outcome := http.StatusOK, "ok"
	switch {
	case len(fails) > 0 && len(refs) == 0:
		status, outcome = http.StatusConflict, "failed"
	case len(fails) > 0:
		status, outcome = http.StatusAccepted, "partial"
	}
	if err := audit.Record(c.Context(), h.DB, &audit.Event{
		Action: audit.DICOMStow, Outcome: outcome, ActorKind: "api", ActorID: &tok.ID, ActorName: "token:" + tok.Name,
		DepartmentID: &tok.DepartmentID, IP: c.IP(),
		Details: map[string]any{"instances_added": sum.Instances, "already_present": sum.Already, "failed": len(fails),
			"studies_added": sum.Studies, "series_added": sum.Series, "bytes": sum.Bytes},
	}); err != nil {
		h.logError(c, "audit stow", err)
	}
	body := dataset{}
	if len(refs) > 0 {
		body[tagReferencedSOPSeq] = sq(refs)
	}
	if len(fails) > 0 {
		body[tagFailedSOPSeq] = sq(fails)
	}
	return c.Status(status).JSON(body, "application/dicom+json")
}

func failureReason(code string) int {
	switch code {
	case ingest.ReasonInvalid:
		return failureCannotUnderstand
	case ingest.ReasonMismatch:
		return failureStudyMismatch
	}
	return failureProcessing
}

func (h *Handler) internal(c fiber.Ctx, err error) error {
	h.logError(c, "machine request failed", err)
	return jsonError(c, http.StatusInternalServerError, "internal error")
}

func (h *Handler) logError(c fiber.Ctx, msg string, err error) {
	if h.Log != nil {
		h.Log.ErrorContext(c.Context(), msg, "request_id", c.RequestID(), "path", c.Path(), "error", err.Error())
	}
}
