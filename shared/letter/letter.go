// Package letter renders the patient letter of PRINT REFERENCE NUMBER: an A4
// PDF (maroto v2) with the Go fonts embedded, so every accented name prints.
// It knows nothing of HTTP or the database: the caller passes what to print.
package letter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/image"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/nyaruka/phonenumbers"

	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/refnum"
)

// Verification and scope values, as stored on the bucket.
const (
	VerifySMS         = "sms"
	VerifyEmail       = "email"
	VerifyDOB         = "dob"
	ScopeImagesReport = "images_report"
)

// Exam is one line of the exam list.
type Exam struct {
	Date        *time.Time
	Modality    string
	Description string
}

// Department is the sender, for the header and "whom to contact".
type Department struct {
	Name, Address, Phone, Email, Contact string
}

// Letter is everything printed.
type Letter struct {
	Lang         string
	Printed      time.Time
	Department   Department
	PatientName  string
	BirthDate    time.Time
	Anonymized   bool
	Exams        []Exam
	Ref          refnum.Number
	SignInURL    string // the patient sign-in page; the QR code adds ?ref=
	Verification string
	Destination  string // full phone (E.164) or e-mail; printed masked
	Scope        string
	ValidUntil   time.Time
	Message      string
	// Logo is the department's logo (PNG or JPEG, re-encoded by the caller,
	// see CheckLogo), drawn in the header within LogoMaxWidth × LogoMaxHeight
	// mm with its aspect kept. Empty: no logo.
	Logo []byte
}

var ink = &props.Color{Red: 23, Green: 50, Blue: 77}

// QRURL is what the QR code opens: the sign-in page with the reference
// number filled in and the letter's language, and nothing else (never a
// date of birth or a code).
func QRURL(signIn string, n refnum.Number, lang string) string {
	sep := "?"
	if strings.Contains(signIn, "?") {
		sep = "&"
	}
	u := signIn + sep + "ref=" + n.Canonical()
	if lang != "" {
		u += "&lang=" + lang
	}
	return u
}

// Render returns the PDF bytes. It never panics: a failure inside the PDF
// library comes back as an error. Every text is passed through SafeText
// first, so an unprintable character prints as a replacement character
// instead of failing the letter (callers still refuse such text where a
// person typed it, with CheckPrintable).
func Render(l *Letter) (pdf []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			pdf, err = nil, fmt.Errorf("letter: rendering failed: %v", r)
		}
	}()
	var ext extension.Type
	if len(l.Logo) > 0 {
		if ext, err = logoType(l.Logo); err != nil {
			return nil, err
		}
	}
	qr, err := qrPNG(QRURL(l.SignInURL, l.Ref, l.Lang))
	if err != nil {
		return nil, err
	}
	fonts := letterFonts()

	t := i18n.For(l.Lang)
	cfg := config.NewBuilder().
		WithPageSize(pagesize.A4).
		WithLeftMargin(18).WithRightMargin(18).WithTopMargin(15).
		WithCustomFonts(fonts).
		WithDefaultFont(&props.Font{Family: fontSans, Size: 10.5}).
		WithTitle(t("letter.title"), true).
		WithCreator("RadPass", true).
		WithCreationDate(l.Printed).
		WithSequentialMode().
		WithCompression(false).
		Build()
	m := maroto.New(cfg)

	small := props.Text{Size: 9, Color: &props.Color{Red: 70, Green: 80, Blue: 95}}
	heading := props.Text{Size: 12.5, Top: 3, Color: ink}

	// Header: department, address, phone; date on the right.
	d := l.Department
	if len(l.Logo) > 0 {
		m.AddRows(
			row.New(LogoMaxHeight).Add(image.NewFromBytesCol(logoCols, l.Logo, ext, props.Rect{Percent: 100})),
			row.New(2),
		)
	}
	m.AddRows(
		row.New().Add(
			textCol(8, d.Name, props.Text{Size: 15, Color: ink}),
			textCol(4, FormatDate(l.Lang, l.Printed), props.Text{Align: align.Right, Top: 1}),
		),
	)
	if d.Address != "" {
		m.AddAutoRow(textCol(12, d.Address, small))
	}
	if d.Phone != "" || d.Email != "" {
		var parts []string
		if d.Phone != "" {
			parts = append(parts, t("letter.phone", "Phone", d.Phone))
		}
		if d.Email != "" {
			parts = append(parts, t("letter.email", "Email", d.Email))
		}
		m.AddAutoRow(textCol(12, strings.Join(parts, "   "), small))
	}
	m.AddRows(row.New(2), line.NewRow(4))
	m.AddAutoRow(textCol(12, t("letter.title"), props.Text{Size: 18, Bottom: 2, Color: ink}))

	// Who and what.
	if l.Anonymized {
		m.AddAutoRow(textCol(12, t("letter.anonymized"), props.Text{Top: 2, Bottom: 2}))
	} else {
		m.AddAutoRow(
			textCol(6, t("letter.patient", "Name", l.PatientName), props.Text{Size: 11.5, Top: 2}),
			textCol(6, t("letter.birthdate", "Date", FormatDate(l.Lang, l.BirthDate)), props.Text{Top: 2}),
		)
		if len(l.Exams) > 0 {
			m.AddAutoRow(textCol(12, t("letter.exams"), heading))
			for _, e := range l.Exams {
				date := ""
				if e.Date != nil {
					date = FormatDate(l.Lang, *e.Date)
				}
				m.AddAutoRow(
					textCol(3, date, props.Text{Top: 1}),
					textCol(2, e.Modality, props.Text{Top: 1}),
					textCol(7, e.Description, props.Text{Top: 1}),
				)
			}
		}
	}

	// The reference number, large and monospaced, beside the QR code.
	m.AddRows(row.New(4))
	m.AddRows(row.New(42).Add(
		col.New(8).Add(
			textNew(t("letter.ref.label"), props.Text{Size: 12, Top: 4, Color: ink}),
			textNew(l.Ref.Grouped(), props.Text{Family: fontMono, Size: 20, Top: 12}),
			textNew(t("letter.qr"), props.Text{Size: 8.5, Top: 24, Color: small.Color}),
		),
		image.NewFromBytesCol(4, qr, extension.Png, props.Rect{Center: true, Percent: 95}),
	).WithStyle(&props.Cell{BorderType: border.Full, BorderThickness: 0.3, BorderColor: &props.Color{Red: 150, Green: 160, Blue: 170}}))

	// How to sign in.
	m.AddAutoRow(textCol(12, t("letter.howto.title"), heading))
	steps := []string{
		t("letter.howto.open", "URL", l.SignInURL),
		t("letter.howto.enter"),
	}
	switch l.Verification {
	case VerifySMS:
		steps = append(steps, t("letter.howto.sms", "Dest", MaskPhone(l.Destination)))
	case VerifyEmail:
		steps = append(steps, t("letter.howto.email", "Dest", MaskEmail(l.Destination)))
	default:
		steps = append(steps, t("letter.howto.dob"))
	}
	for i, s := range steps {
		m.AddAutoRow(textCol(12, strconv.Itoa(i+1)+". "+s, props.Text{Top: 1, Left: 2}))
	}
	m.AddAutoRow(textCol(12, t("letter.howto.blocked"), props.Text{Top: 1, Size: 9}))

	// What access includes, and until when.
	m.AddAutoRow(textCol(12, t("letter.access.title"), heading))
	m.AddAutoRow(textCol(12, AccessText(t, l.Scope, l.Anonymized), props.Text{Top: 1}))
	m.AddAutoRow(textCol(12, t("letter.valid", "Date", FormatDate(l.Lang, l.ValidUntil)), props.Text{Top: 1, Size: 11.5, Color: ink}))

	if msg := strings.TrimSpace(l.Message); msg != "" {
		m.AddAutoRow(textCol(12, t("letter.message"), heading))
		for i, line := range strings.Split(strings.ReplaceAll(msg, "\r\n", "\n"), "\n") {
			top := 1.0
			if i > 0 {
				top = 0
			}
			if line = strings.TrimSpace(line); line == "" {
				line = " "
			}
			m.AddAutoRow(textCol(12, line, props.Text{Top: top}))
		}
	}

	// Whom to contact.
	m.AddAutoRow(textCol(12, t("letter.contact.title"), heading))
	contact := d.Contact
	if contact == "" {
		contact = d.Name
	}
	c := t("letter.contact", "Contact", contact, "Department", d.Name)
	if d.Phone != "" {
		c += " " + t("letter.phone", "Phone", d.Phone)
	}
	if d.Email != "" {
		c += " " + t("letter.email", "Email", d.Email)
	}
	m.AddAutoRow(textCol(12, c, props.Text{Top: 1}))
	m.AddAutoRow(textCol(12, t("letter.keep"), props.Text{Top: 4, Size: 9, Color: ink}))

	doc, err := m.Generate()
	if err != nil {
		return nil, err
	}
	return doc.GetBytes(), nil
}

// textCol and textNew are maroto's text constructors with the text made
// printable (SafeText, one line): the last line of defence against a
// character gofpdf cannot draw.
func textCol(size int, s string, ps props.Text) core.Col {
	return text.NewCol(size, lineText(s), ps)
}

func textNew(s string, ps props.Text) core.Component {
	return text.New(lineText(s), ps)
}

// AccessText says what the reference number opens.
func AccessText(t i18n.Translator, scope string, anonymized bool) string {
	switch {
	case anonymized:
		return t("letter.access.anonymized")
	case scope == ScopeImagesReport:
		return t("letter.access.images_report")
	}
	return t("letter.access.images")
}

// HowToText is the sign-in instruction for the verification type, with the
// destination masked (for the confirmation and its copied text).
func HowToText(t i18n.Translator, verification, destination string) string {
	switch verification {
	case VerifySMS:
		return t("letter.howto.enter") + " " + t("letter.howto.sms", "Dest", MaskPhone(destination))
	case VerifyEmail:
		return t("letter.howto.enter") + " " + t("letter.howto.email", "Dest", MaskEmail(destination))
	}
	return t("letter.howto.enter") + " " + t("letter.howto.dob")
}

// FormatDate writes a date the way the language does ("3 December 2026",
// "3. Dezember 2026"); the zero time prints as "—".
func FormatDate(lang string, d time.Time) string {
	if d.IsZero() {
		return "—"
	}
	t := i18n.For(lang)
	return t("letter.dateformat", "Day", strconv.Itoa(d.Day()), "Month", t("letter.month."+strconv.Itoa(int(d.Month()))), "Year", strconv.Itoa(d.Year()))
}

// MaskPhone keeps the country code and the last two digits of an E.164
// number: enough for the patient to recognise it, little for anyone else.
// The country code comes from the numbering plan (+32, +1, +352…).
func MaskPhone(e164 string) string {
	if len(e164) < 6 {
		return "••••"
	}
	cc := 3
	if n, err := phonenumbers.Parse(e164, ""); err == nil && n.GetCountryCode() > 0 {
		cc = 1 + len(strconv.Itoa(int(n.GetCountryCode())))
	}
	if cc > len(e164)-2 {
		cc = len(e164) - 2
	}
	return e164[:cc] + " " + strings.Repeat("•", len(e164)-cc-2) + e164[len(e164)-2:]
}

// MaskEmail keeps the first character of the local part and the domain.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 1 {
		return "•••"
	}
	r := []rune(addr[:at])
	return string(r[0]) + "•••" + addr[at:]
}
