package dicomweb

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/metrics"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/web"
)

// Handler serves the token-authenticated machine endpoints.
type Handler struct {
	DB       *bun.DB
	Store    storage.Store
	Log      *slog.Logger
	MaxBytes int64            // request body limit (413 above it); DefaultMaxBytes when 0
	Metrics  *metrics.Metrics // counts imports (nil: off)
	MaxParts int              // DICOM parts per STOW-RS request; DefaultMaxParts when 0
}

// Limits of one machine request.
const (
	DefaultMaxBytes = 64 << 20
	// DefaultMaxParts bounds the instances of one STOW-RS request (each is a
	// transaction); the parts past it fail with 0xA700 (out of resources)
	// and the PACS sends them again in another request.
	DefaultMaxParts = 1000
	// MachineReadTimeout bounds reading one authenticated request's body.
	MachineReadTimeout = 10 * time.Minute
)

// DICOM JSON (PS3.18 F.2) attributes of the STOW-RS response.
const (
	tagFailedSOPSeq         = "00081198"
	tagReferencedSOPSeq     = "00081199"
	tagReferencedSOPClass   = "00081150"
	tagReferencedSOPInst    = "00081155"
	tagFailureReason        = "00081197"
	tagWarningReason        = "00081196"
	failureProcessing       = 0x0110 // processing failure
	failureOutOfResources   = 0xA700 // refused: out of resources (too many parts)
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

// admit runs the checks every API request starts with: a valid token (401)
// with the scope of the endpoint (403), then the declared body size (413, saying tooLargeMsg). Nothing of the body
// is read before the token is checked. When ok is false the refusal has been
// answered and err is what the handler returns; otherwise body reads the
// request body up to MaxBytes (web.ErrBodyTooLarge past it). The caller
// defers web.FinishBody(c, body) so an unread body closes the connection.
func (h *Handler) admit(c fiber.Ctx, scope, tooLargeMsg string) (tok *APIToken, body *web.LimitReader, ok bool, err error) {
	tok, err = h.auth(c)
	if errors.Is(err, ErrBadToken) {
		return nil, nil, false, jsonError(c, http.StatusUnauthorized, "missing or invalid API token")
	}
	if err != nil {
		return nil, nil, false, h.internal(c, err)
	}
	if !tok.Has(scope) {
		return nil, nil, false, jsonError(c, http.StatusForbidden, "this API token lacks the "+scope+" scope")
	}
	body, ok = web.LimitedBody(c, h.maxBytes())
	if !ok {
		return nil, nil, false, jsonError(c, http.StatusRequestEntityTooLarge, tooLargeMsg)
	}
	// The body is read while it is stored (each part in its own transaction),
	// so the server's read timeout, meant for anonymous requests, would cut a
	// large push from a busy PACS short: an authenticated one gets longer.
	if conn := c.RequestCtx().Conn(); conn != nil {
		_ = conn.SetReadDeadline(time.Now().Add(MachineReadTimeout))
	}
	return tok, body, true, nil
}

func (h *Handler) maxBytes() int64 {
	if h.MaxBytes > 0 {
		return h.MaxBytes
	}
	return DefaultMaxBytes
}

func (h *Handler) maxParts() int {
	if h.MaxParts > 0 {
		return h.MaxParts
	}
	return DefaultMaxParts
}

// Stow stores the instances of a multipart/related; type="application/dicom"
// body and answers per PS3.18 10.5: 200 all stored, 202 some failed, 409 none
// stored, 400 malformed, 401 bad token, 413 too large, 415 wrong media type.
func (h *Handler) Stow(c fiber.Ctx) error {
	tok, body, ok, err := h.admit(c, ScopeStow, fmt.Sprintf("the request is larger than %d bytes", h.maxBytes()))
	defer web.FinishBody(c, body)
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
	im := &ingest.Importer{DB: h.DB, Store: h.Store, DepartmentID: tok.DepartmentID, Log: h.Log, Metrics: h.Metrics}
	var opts []ingest.Option
	if studyUID != "" {
		opts = append(opts, ingest.WithStudy(studyUID))
	}
	var refs, fails []dataset
	var sum ingest.Summary
	mr := multipart.NewReader(body, params["boundary"])
	parts, malformed, tooMany := 0, false, false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			malformed = true
			h.logWarn(c, "stow: malformed or truncated multipart body", err)
			break
		}
		if parts == h.maxParts() {
			// The rest stays unread (the connection is closed after the answer).
			tooMany = true
			p.Close()
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
	if !malformed && !tooMany {
		// The epilogue after the closing boundary: read to the end so the
		// connection can serve the PACS's next request.
		_, _ = io.CopyN(io.Discard, body, 64<<10)
	}
	if body.TooLarge() {
		// Past the limit in the middle of the body (a chunked body has no
		// Content-Length to refuse it by): what was stored before stays,
		// and is stored already when the PACS sends it again.
		return jsonError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than %d bytes", h.maxBytes()))
	}
	if parts == 0 {
		return jsonError(c, http.StatusBadRequest, "malformed multipart body: no DICOM part found")
	}
	if malformed {
		fails = append(fails, dataset{tagFailureReason: us(failureCannotUnderstand)})
		sum.Rejected = append(sum.Rejected, ingest.Rejection{Name: "body", Reason: "malformed multipart"})
	}
	if tooMany {
		fails = append(fails, dataset{tagFailureReason: us(failureOutOfResources)})
		sum.Rejected = append(sum.Rejected, ingest.Rejection{Name: "body", Reason: fmt.Sprintf("more than %d parts", h.maxParts())})
	}
	status, outcome := http.StatusOK, "ok"
	switch {
	case len(fails) > 0 && len(refs) == 0:
		status, outcome = http.StatusConflict, "failed"
	case len(fails) > 0:
		status, outcome = http.StatusAccepted, "partial"
	}
	e := audit.Machine(tok.ID, tok.Name, c.IP()).Event(audit.DICOMStow, &tok.DepartmentID,
		map[string]any{"instances_added": sum.Instances, "already_present": sum.Already, "failed": len(fails),
			"studies_added": sum.Studies, "series_added": sum.Series, "bytes": sum.Bytes})
	e.Outcome = outcome
	if err := audit.Record(c.Context(), h.DB, e); err != nil {
		h.logError(c, "audit stow", err)
	}
	out := dataset{}
	if len(refs) > 0 {
		out[tagReferencedSOPSeq] = sq(refs)
	}
	if len(fails) > 0 {
		out[tagFailedSOPSeq] = sq(fails)
	}
	return c.Status(status).JSON(out, "application/dicom+json")
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
	if apperr.IsUnavailable(err) {
		// The database is down or failing over: the sender retries later.
		h.logWarn(c, "machine request: database unavailable", err)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(apperr.RetryAfter))
		return jsonError(c, http.StatusServiceUnavailable, "the database is unavailable, try again later")
	}
	h.logError(c, "machine request failed", err)
	return jsonError(c, http.StatusInternalServerError, "internal error")
}

func (h *Handler) logWarn(c fiber.Ctx, msg string, err error) {
	if h.Log != nil {
		h.Log.WarnContext(c.Context(), msg, "request_id", c.RequestID(), "path", c.Path(), "error", err.Error())
	}
}

func (h *Handler) logError(c fiber.Ctx, msg string, err error) {
	if h.Log != nil {
		h.Log.ErrorContext(c.Context(), msg, "request_id", c.RequestID(), "path", c.Path(), "error", err.Error())
	}
}
