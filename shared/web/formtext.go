package web

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
)

// RefuseBadFormText answers 422, naming the field, to a form POST (url-encoded
// or multipart; uploaded files are not text and are not looked at) whose
// field names or values are not valid UTF-8 or hold a NUL byte. Such text
// would otherwise be changed on its way into PostgreSQL or kept in the audit
// JSON; here it reaches no handler. Machine endpoints are left alone.
func RefuseBadFormText(c fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch:
	default:
		return c.Next()
	}
	if IsMachinePath(c.Path()) {
		return c.Next()
	}
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	switch {
	case strings.HasPrefix(ct, fiber.MIMEApplicationForm):
		var bad string
		found := false
		for k, v := range c.Request().PostArgs().All() {
			if !goodText(k) || !goodText(v) {
				bad, found = string(k), true
				break
			}
		}
		if found {
			return badField(bad)
		}
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		form, err := c.MultipartForm()
		if err != nil {
			return apperr.New(apperr.Invalid, "error.badrequest")
		}
		for k, vs := range form.Value {
			if !goodText([]byte(k)) {
				return badField(k)
			}
			for _, v := range vs {
				if !goodText([]byte(v)) {
					return badField(k)
				}
			}
		}
		for k := range form.File {
			if !goodText([]byte(k)) {
				return badField(k)
			}
			for _, fh := range form.File[k] {
				if !goodText([]byte(fh.Filename)) {
					return badField(k)
				}
			}
		}
	}
	return c.Next()
}

func goodText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

// badField is the 422 naming the field; a name that is itself bad text is
// shown quoted in ASCII, and never long.
func badField(name string) error {
	shown := name
	if !goodText([]byte(name)) || len(name) > 64 {
		shown = strconv.QuoteToASCII(printableASCII(name, 64))
	}
	return apperr.Field(shown, "error.form.encoding", "Field", shown)
}
