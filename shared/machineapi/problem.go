package machineapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/letter"
)

// ProblemMediaType is the media type of an error answer (RFC 9457).
const ProblemMediaType = "application/problem+json"

// Problem is an error answer per RFC 9457: type names the kind of problem
// (a stable URN clients can switch on), title says it in the language of
// Accept-Language, and errors list the failed rules of the request, field
// by field, with the staff form's message keys as codes.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Errors []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one failed rule.
type ProblemField struct {
	Field   string `json:"field"`   // the request field, e.g. "phone", "studies[1]"
	Pointer string `json:"pointer"` // the same as a JSON Pointer (RFC 6901) into the request
	Code    string `json:"code"`    // the message key, e.g. "print.error.phone.invalid"
	Message string `json:"message"` // the message in the language of Accept-Language
}

// ProblemTypePrefix starts every problem type.
const ProblemTypePrefix = "urn:radpass:problem:"

// problemLang is the language of an error answer: Accept-Language, else English.
func problemLang(c fiber.Ctx) string {
	if a := c.Get(fiber.HeaderAcceptLanguage); a != "" {
		return i18n.Match(a)
	}
	return i18n.Default
}

// problem answers status with a problem of kind, titled by the i18n key title.
func (h *Handler) problem(c fiber.Ctx, status int, kind, title string, fields ...ProblemField) error {
	p := Problem{Type: ProblemTypePrefix + kind, Title: i18n.T(problemLang(c), title), Status: status, Errors: fields}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ProblemMediaType)
	return c.Status(status).Send(body)
}

// fieldProblems turns the failed rules into problem fields, the API's field
// names for the print form's.
func fieldProblems(lang string, errs buckets.FieldErrors) []ProblemField {
	out := make([]ProblemField, 0, len(errs))
	for _, e := range errs {
		f := apiField(e.Field)
		out = append(out, ProblemField{Field: f, Pointer: pointer(f), Code: e.Key, Message: i18n.T(lang, e.Key, localArgs(lang, e.Args)...)})
	}
	return out
}

// apiField is the request field of a print form field.
func apiField(f string) string {
	switch f {
	case "agreed":
		return "patient_agreed"
	case "label":
		return "label.id"
	case "label_for":
		return "label"
	}
	return f
}

// pointer writes a field ("studies[1]", "label.id") as a JSON Pointer.
func pointer(field string) string {
	var b strings.Builder
	b.WriteString("#")
	for _, part := range strings.Split(field, ".") {
		name, idx, ok := strings.Cut(part, "[")
		b.WriteString("/" + name)
		if ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); err == nil {
				b.WriteString("/" + strconv.Itoa(n))
			}
		}
	}
	return b.String()
}

// localArgs writes dates in message arguments the way lang does.
func localArgs(lang string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if d, ok := a.(time.Time); ok {
			a = letter.FormatDate(lang, d)
		}
		out[i] = a
	}
	return out
}
