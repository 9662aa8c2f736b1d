package machineapi

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
)

// Letter is GET /api/v1/accesses/{id}/letter?lang=: the patient letter PDF
// in lang (default: the access's language), while the number is kept for it
// (LetterTTL after creation; 410 after that or once revoked). Each letter
// served is audited with the token.
func (h *Handler) Letter(c fiber.Ctx) error {
	m, ok, err := h.admit(c)
	if !ok {
		return err
	}
	id, ok := h.accessID(c)
	if !ok {
		return h.notFound(c)
	}
	ctx := c.Context()
	b, studies, err := h.Buckets.ForMachine(ctx, m, id)
	if errors.Is(err, buckets.ErrNotFound) {
		return h.notFound(c)
	}
	if err != nil {
		return h.internal(c, err)
	}
	lang := c.Query("lang", b.Language)
	if !i18n.Valid(lang) {
		return h.problem(c, http.StatusBadRequest, "language", "api.problem.language")
	}
	rec, err := findByBucket(ctx, h.DB, id)
	if err != nil {
		return h.internal(c, err)
	}
	if rec == nil || !rec.letterOpen(h.Buckets.Time()) || b.State == database.BucketRevoked {
		return h.problem(c, http.StatusGone, "letter-gone", "api.problem.lettergone")
	}
	n, err := open(h.Key, id, *rec.SealedRef)
	if err != nil {
		return h.internal(c, err)
	}
	pdf, err := h.Buckets.Letters.Letter(ctx, b, studies, lang, n)
	if err != nil {
		return h.internal(c, err)
	}
	if err := h.Buckets.LetterByMachine(ctx, m, c.IP(), b, lang); err != nil {
		return h.internal(c, err)
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="radpass-letter-`+lang+`.pdf"`)
	return c.Status(http.StatusOK).Send(pdf)
}
