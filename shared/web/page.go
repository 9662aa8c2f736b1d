// Package web is the HTTP plumbing both sides share: the per-request Page,
// rendering (full page or htmx partial), errors, sessions, CSRF, headers.
package web

import (
	"html/template"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
)

// Locals keys set by middleware.
const (
	LocalLang   = "radpass.lang"
	LocalUser   = "radpass.user"
	LocalBucket = "radpass.bucket"
)

// Page is what every template receives: translation, CSRF token, who is
// signed in (a staff User, or a patient's Bucket), htmx details, flash
// message, field errors and the handler's Data.
type Page struct {
	Lang      string
	TitleKey  string
	CSRF      string
	CSRFField string
	User      *database.User
	Dept      *database.Department
	Bucket    *database.Bucket // the patient's bucket on patient pages
	HTMX      bool
	Path      string
	Back      string // where the language switch returns: this page, query included
	Flash     string
	Errors    map[string]string // form field -> translated message
	Languages []string
	Layout    string // "" picks from the template name
	Data      any
	// Body is the page's content inside its layout (set by Views.Render).
	Body template.HTML
	tr   i18n.Translator
}

// NewPage builds the page of this request; titleKey is an i18n id.
func NewPage(c fiber.Ctx, titleKey string, data any) *Page {
	lang := Lang(c)
	p := &Page{
		Lang:      lang,
		TitleKey:  titleKey,
		CSRF:      CSRFToken(c),
		CSRFField: CSRFField,
		HTMX:      IsHTMX(c),
		Path:      c.Path(),
		Back:      c.Path(),
		Languages: i18n.Languages,
		Data:      data,
		tr:        i18n.For(lang),
	}
	// A page reached by GET comes back with its query (a search stays put).
	if c.Method() == fiber.MethodGet && !p.HTMX {
		p.Back = c.OriginalURL()
	}
	if u := CurrentUser(c); u != nil {
		p.User = u
		p.Dept = u.Department
	}
	p.Bucket = CurrentBucket(c)
	return p
}

// T translates id with name/value args in the page's language.
func (p *Page) T(id string, args ...any) string { return p.tr(id, args...) }

// Title is the translated page title.
func (p *Page) Title() string {
	if p.TitleKey == "" {
		return "RadPass"
	}
	return p.T(p.TitleKey) + " · RadPass"
}

// LanguageName names a language in that language, for menus.
func (p *Page) LanguageName(l string) string { return i18n.LanguageName(l) }

// Err returns the message for a form field ("" when the field is fine).
func (p *Page) Err(field string) string { return p.Errors[field] }

// AddError records a translated error for field.
func (p *Page) AddError(field, key string, args ...any) {
	if p.Errors == nil {
		p.Errors = map[string]string{}
	}
	p.Errors[field] = p.T(key, args...)
}

// Lang is the request's language, resolved by the Language middleware.
func Lang(c fiber.Ctx) string {
	if l, ok := c.Locals(LocalLang).(string); ok && l != "" {
		return l
	}
	return i18n.Match(c.Get(fiber.HeaderAcceptLanguage))
}

// CurrentUser is the signed-in staff user, or nil.
func CurrentUser(c fiber.Ctx) *database.User {
	u, _ := c.Locals(LocalUser).(*database.User)
	return u
}

// CurrentBucket is the bucket of a signed-in patient, or nil.
func CurrentBucket(c fiber.Ctx) *database.Bucket {
	b, _ := c.Locals(LocalBucket).(*database.Bucket)
	return b
}

// SignedIn reports whether anyone (staff user or patient) is signed in.
func (p *Page) SignedIn() bool { return p.User != nil || p.Bucket != nil }

// IsHTMX reports an htmx request that wants a fragment: HX-Request but not a
// boosted navigation (which wants the whole page).
func IsHTMX(c fiber.Ctx) bool {
	return c.Get("HX-Request") == "true" && c.Get("HX-Boosted") != "true"
}
