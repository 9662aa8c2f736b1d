// Package printing is the patient letter pipeline: a bucket mapped to what
// its letter says (For), the department's logo loaded, the PDF rendered a
// few at a time (the render gate), and the letter rendered inside a print
// kept for the "Print immediately" request that follows (the fresh-letter
// cache). The drawing of the PDF itself is shared/letter.
package printing

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/refnum"
)

// Printer renders letters. Its DB is the pool: it is asked only outside a
// transaction (a logo query inside one would take a second connection while
// the transaction holds one). One Printer serves all requests; what it
// shares (gate, cache) is safe for concurrent use.
type Printer struct {
	DB        bun.IDB
	SignInURL string           // printed on the letter and in its QR code
	Now       func() time.Time // nil = time.Now; "printed on" and the cache's age
	// Zone is the calendar of "printed on" (RADPASS_TIMEZONE, the one the
	// validity dates use); nil = the process's local zone.
	Zone *time.Location

	gate  gate
	fresh freshLetters
}

func (p *Printer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// printedAt is now on the department's calendar.
func (p *Printer) printedAt() time.Time {
	if p.Zone == nil {
		return p.now().In(time.Local)
	}
	return p.now().In(p.Zone)
}

// Render renders the letter of bucket b (with its studies) in lang for
// number n. The logo is loaded first, not while holding a render slot; the
// render waits for a slot as long as ctx lives.
func (p *Printer) Render(ctx context.Context, b *database.Bucket, studies []*database.Study, lang string, n refnum.Number) ([]byte, error) {
	logo, err := database.LoadLogo(ctx, p.DB, b.DepartmentID)
	if err != nil {
		return nil, err
	}
	var pdf []byte
	err = p.gate.do(ctx, func() error {
		pdf, err = letter.Render(For(b, studies, lang, p.printedAt(), p.SignInURL, n, logo))
		return err
	})
	return pdf, err
}

// Letter is the letter of bucket b in lang: the one a print just rendered,
// if still fresh, else a new render.
func (p *Printer) Letter(ctx context.Context, b *database.Bucket, studies []*database.Study, lang string, n refnum.Number) ([]byte, error) {
	if pdf, ok := p.fresh.take(b.ID, lang, p.now()); ok {
		return pdf, nil
	}
	return p.Render(ctx, b, studies, lang, n)
}

// Keep keeps the letter a print rendered for its "Print immediately".
func (p *Printer) Keep(bucketID int64, lang string, pdf []byte) {
	p.fresh.put(bucketID, lang, pdf, p.now())
}

// Renders is how many letters were rendered since start (tests, diagnostics).
func (p *Printer) Renders() int64 { return p.gate.renders.Load() }

// For maps a bucket to what its letter prints. An anonymized bucket's
// letter names neither the patient nor the studies.
func For(b *database.Bucket, studies []*database.Study, lang string, now time.Time, signIn string, n refnum.Number, logo []byte) *letter.Letter {
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
