// Package letter renders the patient letter of PRINT REFERENCE NUMBER: an A4
// PDF (maroto v2) with the Go fonts embedded, so every accented name prints.
// It knows nothing of HTTP or the database: the caller passes what to print.
package letter

import (
	"github.com/nyaruka/phonenumbers"
	"strconv"
	"strings"
	"time"

	"github.com/johnfercher/maroto/v2"
	"github.com/johnfercher/maroto/v2/pkg/components/code"
	"github.com/johnfercher/maroto/v2/pkg/components/col"
	"github.com/johnfercher/maroto/v2/pkg/components/line"
	"github.com/johnfercher/maroto/v2/pkg/components/row"
	"github.com/johnfercher/maroto/v2/pkg/components/text"
	"github.com/johnfercher/maroto/v2/pkg/config"
	"github.com/johnfercher/maroto/v2/pkg/consts/align"
	"github.com/johnfercher/maroto/v2/pkg/consts/border"
	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/consts/pagesize"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"github.com/johnfercher/maroto/v2/pkg/props"
	"github.com/johnfercher/maroto/v2/pkg/repository"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"

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
}

// Two fonts only: each embedded font costs about 3 ms per letter (parsing and
// subsetting), and the PDF must stay under 10 ms. Headings stand out by size
// and colour instead of a bold face; the reference number is Go Mono Bold.
const (
	fontSans = "go"
	fontMono = "gomonobold"
)

var ink = &props.Color{Red: 23, Green: 50, Blue: 77}

var fonts []*entity.CustomFont

func init() {
	var err error
	fonts, err = repository.New().
		AddUTF8FontFromBytes(fontSans, fontstyle.Normal, goregular.TTF).
		AddUTF8FontFromBytes(fontMono, fontstyle.Normal, gomonobold.TTF).
		Load()
	if err != nil {
		panic(err)
	}
}

// QRURL is what the QR code opens: the sign-in page with the reference
// number filled in, and nothing else (never a date of birth or a code).
func QRURL(signIn string, n refnum.Number) string {
	sep := "?"
	if strings.Contains(signIn, "?") {
		sep = "&"
	}
	return signIn + sep + "ref=" + n.Canonical()
}

// Render returns the PDF bytes.
func Render(l *Letter) ([]byte, error) {
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
	m.AddRows(
		row.New().Add(
			text.NewCol(8, d.Name, props.Text{Size: 15, Color: ink}),
			text.NewCol(4, FormatDate(l.Lang, l.Printed), props.Text{Align: align.Right, Top: 1}),
		),
	)
	if d.Address != "" {
		m.AddAutoRow(text.NewCol(12, d.Address, small))
	}
	if d.Phone != "" || d.Email != "" {
		var parts []string
		if d.Phone != "" {
			parts = append(parts, t("letter.phone", "Phone", d.Phone))
		}
		if d.Email != "" {
			parts = append(parts, t("letter.email", "Email", d.Email))
		}
		m.AddAutoRow(text.NewCol(12, strings.Join(parts, "   "), small))
	}
	m.AddRows(row.New(2), line.NewRow(4))
	m.AddAutoRow(text.NewCol(12, t("letter.title"), props.Text{Size: 18, Bottom: 2, Color: ink}))

	// Who and what.
	if l.Anonymized {
		m.AddAutoRow(text.NewCol(12, t("letter.anonymized"), props.Text{Top: 2, Bottom: 2}))
	} else {
		m.AddAutoRow(
			text.NewCol(6, t("letter.patient", "Name", l.PatientName), props.Text{Size: 11.5, Top: 2}),
			text.NewCol(6, t("letter.birthdate", "Date", FormatDate(l.Lang, l.BirthDate)), props.Text{Top: 2}),
		)
		if len(l.Exams) > 0 {
			m.AddAutoRow(text.NewCol(12, t("letter.exams"), heading))
			for _, e := range l.Exams {
				date := ""
				if e.Date != nil {
					date = FormatDate(l.Lang, *e.Date)
				}
				m.AddAutoRow(
					text.NewCol(3, date, props.Text{Top: 1}),
					text.NewCol(2, e.Modality, props.Text{Top: 1}),
					text.NewCol(7, e.Description, props.Text{Top: 1}),
				)
			}
		}
	}

	// The reference number, large and monospaced, beside the QR code.
	m.AddRows(row.New(4))
	m.AddRows(row.New(42).Add(
		col.New(8).Add(
			text.New(t("letter.ref.label"), props.Text{Size: 12, Top: 4, Color: ink}),
			text.New(l.Ref.Grouped(), props.Text{Family: fontMono, Size: 20, Top: 12}),
			text.New(t("letter.qr"), props.Text{Size: 8.5, Top: 24, Color: small.Color}),
		),
		code.NewQrCol(4, QRURL(l.SignInURL, l.Ref), props.Rect{Center: true, Percent: 95}),
	).WithStyle(&props.Cell{BorderType: border.Full, BorderThickness: 0.3, BorderColor: &props.Color{Red: 150, Green: 160, Blue: 170}}))

	// How to sign in.
	m.AddAutoRow(text.NewCol(12, t("letter.howto.title"), heading))
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
		m.AddAutoRow(text.NewCol(12, strconv.Itoa(i+1)+". "+s, props.Text{Top: 1, Left: 2}))
	}
	m.AddAutoRow(text.NewCol(12, t("letter.howto.blocked"), props.Text{Top: 1, Size: 9}))

	// What access includes, and until when.
	m.AddAutoRow(text.NewCol(12, t("letter.access.title"), heading))
	m.AddAutoRow(text.NewCol(12, AccessText(t, l.Scope, l.Anonymized), props.Text{Top: 1}))
	m.AddAutoRow(text.NewCol(12, t("letter.valid", "Date", FormatDate(l.Lang, l.ValidUntil)), props.Text{Top: 1, Size: 11.5, Color: ink}))

	if msg := strings.TrimSpace(l.Message); msg != "" {
		m.AddAutoRow(text.NewCol(12, t("letter.message"), heading))
		m.AddAutoRow(text.NewCol(12, msg, props.Text{Top: 1}))
	}

	// Whom to contact.
	m.AddAutoRow(text.NewCol(12, t("letter.contact.title"), heading))
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
	m.AddAutoRow(text.NewCol(12, c, props.Text{Top: 1}))
	m.AddAutoRow(text.NewCol(12, t("letter.keep"), props.Text{Top: 4, Size: 9, Color: ink}))

	doc, err := m.Generate()
	if err != nil {
		return nil, err
	}
	return doc.GetBytes(), nil
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
