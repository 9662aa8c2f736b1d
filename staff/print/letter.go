package print

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/web"
)

// Letter serves the patient letter PDF inline, in the language asked
// (PRINT THIS INFORMATION) or the bucket's. It needs the plaintext number,
// which only the printing user's session holds while the confirmation is open.
func (h *Handlers) Letter(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	b, studies, err := h.loadBucket(c, u)
	if err != nil {
		return err
	}
	lang := c.Query("lang", b.Language)
	if !i18n.Valid(lang) {
		return apperr.New(apperr.Invalid, "error.language")
	}
	n, ok := h.recallRef(c, b.ID)
	if !ok {
		return apperr.New(apperr.NotFound, "print.error.gone")
	}
	pdf, err := h.Buckets.Letters.Letter(c.Context(), b, studies, lang, n)
	if err != nil {
		return err
	}
	if err := h.Buckets.LetterPrinted(c.Context(), u, c.IP(), b, lang); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="radpass-letter-`+lang+`.pdf"`)
	return c.Status(http.StatusOK).Send(pdf)
}
