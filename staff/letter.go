package staff

import (
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/web"
)

// PrintLetter serves the patient letter PDF inline, in the language asked
// (PRINT THIS INFORMATION) or the bucket's. It needs the plaintext number,
// which only the printing user's session holds while the confirmation is open.
func (h *Handlers) PrintLetter(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	b, studies, err := h.loadBucket(c.Context(), u, c.Params("id"))
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
	pdf, ok := h.letters.take(b.ID, lang, h.Print.now())
	if !ok {
		logo, err := store.LoadLogo(c.Context(), h.DB, b.DepartmentID)
		if err != nil {
			return err
		}
		// A reprint (PRINT THIS INFORMATION, another language) renders
		// under the same bound as prints do; the query runs before, not
		// holding a CPU slot.
		err = h.renders.do(c.Context(), func() error {
			pdf, err = letter.Render(letterFor(b, studies, lang, h.Print.now(), h.Print.SignInURL, n, logo))
			return err
		})
		if err != nil {
			return err
		}
	}
	if err := audit.Record(c.Context(), h.DB, &audit.Event{
		Action: audit.BucketLetter, ActorKind: "staff", ActorID: &u.ID, ActorName: u.Username,
		DepartmentID: &b.DepartmentID, BucketID: &b.ID, IP: c.IP(), Details: map[string]any{"language": lang},
	}); err != nil {
		return err
	}
	web.NoStore(c)
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `inline; filename="radpass-letter-`+lang+`.pdf"`)
	return c.Status(http.StatusOK).Send(pdf)
}

// letterFor maps a bucket to what the letter prints.
func letterFor(b *store.Bucket, studies []*store.Study, lang string, now time.Time, signIn string, n refnum.Number, logo []byte) *letter.Letter {
	d := b.Department
	l := &letter.Letter{
		Lang:         lang,
		Printed:      now,
		Department:   letter.Department{Name: d.Name, Address: d.Address, Phone: d.Phone, Email: d.Email, Contact: d.Contact},
		Anonymized:   b.Anonymized,
		Ref:          n,
		SignInURL:    signIn,
		Verification: b.Verification,
		Destination:  b.Destination,
		Scope:        b.Scope,
		ValidUntil:   b.ValidUntil,
		Message:      b.Message,
		Logo:         logo,
	}
	if !b.Anonymized {
		l.PatientName = b.Patient.DisplayName()
		if b.Patient.BirthDate != nil {
			l.BirthDate = *b.Patient.BirthDate
		}
		for _, s := range studies {
			l.Exams = append(l.Exams, letter.Exam{Date: s.StudyDate, Modality: strings.Join(s.Modalities, ", "), Description: s.Description})
		}
	}
	return l
}
