package machineapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// ChangeRequest is the body of POST …/revoke (reason) and …/extend (reason
// and the new valid_until, YYYY-MM-DD).
type ChangeRequest struct {
	Reason     string `json:"reason"`
	ValidUntil string `json:"valid_until,omitempty"`
}

// Revoke is POST /api/v1/accesses/{id}/revoke: the access closes for good
// (a patient's session ends at its next request); its letter can no longer
// be downloaded. 409 when it was revoked already.
func (h *Handler) Revoke(c fiber.Ctx) error {
	return h.change(c, func(m buckets.Machine, id int64, r ChangeRequest) (*database.Bucket, error) {
		b, err := h.Buckets.RevokeByMachine(c.Context(), m, id, c.IP(), r.Reason)
		if err == nil {
			// The letter is refused for a revoked access anyway; the number
			// is dropped now rather than at LetterTTL.
			_ = dropNumber(c.Context(), h.DB, id)
		}
		return b, err
	})
}

// Extend is POST /api/v1/accesses/{id}/extend: a new validity date within
// the department's maximum (422 otherwise); 409 for a revoked access.
func (h *Handler) Extend(c fiber.Ctx) error {
	return h.change(c, func(m buckets.Machine, id int64, r ChangeRequest) (*database.Bucket, error) {
		until, err := time.Parse(time.DateOnly, r.ValidUntil)
		if err != nil {
			return nil, apperr.Field("valid_until", "print.error.valid.format")
		}
		return h.Buckets.ExtendByMachine(c.Context(), m, id, c.IP(), r.Reason, until)
	})
}

// change reads the body of a management action, runs it, and answers the
// access as it is now.
func (h *Handler) change(c fiber.Ctx, do func(m buckets.Machine, id int64, r ChangeRequest) (*database.Bucket, error)) error {
	m, ok, err := h.admit(c)
	if !ok {
		return err
	}
	body, ok := web.LimitedBody(c, BodyLimit)
	defer web.FinishBody(c, body)
	if !ok {
		return h.problem(c, http.StatusRequestEntityTooLarge, "too-large", "api.problem.toolarge")
	}
	id, ok := h.accessID(c)
	if !ok {
		return h.notFound(c)
	}
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != "application/json" {
		return h.problem(c, http.StatusUnsupportedMediaType, "media-type", "api.problem.mediatype")
	}
	raw, err := io.ReadAll(body)
	if body.TooLarge() {
		return h.problem(c, http.StatusRequestEntityTooLarge, "too-large", "api.problem.toolarge")
	}
	if err == nil {
		if ok, err := h.badText(c, raw, "api.problem.change"); !ok {
			return err
		}
	}
	var req ChangeRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err != nil || dec.Decode(&req) != nil || dec.More() {
		return h.problem(c, http.StatusBadRequest, "bad-json", "api.problem.json")
	}
	_, err = do(m, id, req)
	lang := problemLang(c)
	var ae *apperr.Error
	switch {
	case errors.Is(err, buckets.ErrNotFound):
		return h.notFound(c)
	case errors.Is(err, buckets.ErrState):
		return h.problem(c, http.StatusConflict, "state", "api.problem.state")
	case errors.Is(err, buckets.ErrValidity):
		max := buckets.MaxValidity(h.Buckets.Today(), h.department(c, m))
		return h.problem(c, http.StatusUnprocessableEntity, "invalid", "api.problem.change",
			fieldProblems(lang, buckets.FieldErrors{{Field: "valid_until", Key: "access.error.extend.range", Args: []any{"Date", max}}})...)
	case errors.As(err, &ae) && ae.Code == apperr.Invalid:
		field := ae.Field
		if field == "" {
			field = "reason" // buckets.error.reason: the one rule without a field
		}
		return h.problem(c, http.StatusUnprocessableEntity, "invalid", "api.problem.change",
			fieldProblems(lang, buckets.FieldErrors{{Field: field, Key: ae.Key, Args: ae.Args}})...)
	case err != nil:
		return h.internal(c, err)
	}
	a, err := h.load(c, m, id)
	if err != nil {
		return h.internal(c, err)
	}
	return c.Status(http.StatusOK).JSON(a)
}

// department is m's department (nil when it cannot be read: MaxValidity
// then says "no maximum").
func (h *Handler) department(c fiber.Ctx, m buckets.Machine) *database.Department {
	d := new(database.Department)
	if err := h.DB.NewSelect().Model(d).Where("id = ?", m.DepartmentID).Scan(c.Context()); err != nil {
		return nil
	}
	return d
}
