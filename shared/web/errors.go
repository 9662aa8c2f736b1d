package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/i18n"
)

// ErrorData is what the error templates show: a translated message only.
type ErrorData struct {
	Status  int
	Message string
	Heading string
}

// ErrorHandler renders every error as a page (or an htmx fragment aimed at the
// page's alert area). Internal errors are logged with the request id and shown
// as a generic message: no internal text ever reaches a page.
func ErrorHandler(c fiber.Ctx, err error) error {
	status := StatusOf(err)
	key := keyForStatus(status)
	var args []any
	var ae *apperr.Error
	if errors.As(err, &ae) {
		key, args = ae.Key, ae.Args
	}
	if status == http.StatusServiceUnavailable {
		// An outage, not a fault: the client is told when to come back.
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(apperr.RetryAfter))
	}
	if status >= 500 {
		slog.ErrorContext(c.Context(), "request failed", "request_id", c.RequestID(), "method", c.Method(), "path", redactCapability(c.Path()), "error", err.Error())
	}
	// A session that expired under an htmx request: send the browser to sign
	// in (patients to their own start page, never to the staff sign-in).
	if status == http.StatusUnauthorized && c.Get("HX-Request") == "true" {
		to := "/staff/signin"
		if isPatientPath(c.Path()) {
			to = "/"
		}
		c.Set("HX-Redirect", to)
		return c.SendStatus(http.StatusUnauthorized)
	}
	// Machines (PACS, report senders) get JSON, never a staff page.
	if IsMachinePath(c.Path()) {
		NoStore(c)
		return c.Status(status).JSON(fiber.Map{"status": status, "error": i18n.T(i18n.Default, key, args...)})
	}
	p := NewPage(c, "error.title", nil)
	p.Data = ErrorData{Status: status, Message: p.T(key, args...), Heading: p.T(keyForStatus(status) + ".heading")}
	NoStore(c)
	if p.HTMX {
		c.Set("HX-Retarget", "#alerts")
		c.Set("HX-Reswap", "innerHTML")
		return RenderPartial(c, status, "partials/error", p)
	}
	if c.Path() == "" || isPatientPath(c.Path()) {
		p.Layout = "layouts/patient"
	}
	if rerr := Render(c, status, "errors/error", p); rerr != nil {
		slog.ErrorContext(c.Context(), "error page failed", "request_id", c.RequestID(), "error", rerr.Error())
		return c.Status(status).SendString(http.StatusText(status))
	}
	return nil
}

// StatusOf is the HTTP status the error handler answers err with.
func StatusOf(err error) int {
	var ae *apperr.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
		return apperr.Status(ae.Code)
	case errors.As(err, &fe):
		return fe.Code
	case apperr.IsUnavailable(err):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func isPatientPath(p string) bool {
	return p == "/" || (len(p) >= 2 && p[:2] == "/p")
}

func keyForStatus(status int) string {
	switch status {
	case http.StatusNotFound:
		return "error.notfound"
	case http.StatusForbidden:
		return "error.forbidden"
	case http.StatusUnsupportedMediaType:
		return "error.unsupported"
	case http.StatusUnauthorized:
		return "error.unauthorized"
	case http.StatusTooManyRequests:
		return "error.toomany"
	case http.StatusRequestEntityTooLarge:
		return "error.toolarge"
	case http.StatusMethodNotAllowed:
		return "error.method"
	case http.StatusServiceUnavailable:
		return "error.unavailable"
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return "error.badrequest"
	}
	if status >= 500 {
		return "error.internal"
	}
	return "error.badrequest"
}

// IsMachinePath reports the token-authenticated endpoints for machines.
func IsMachinePath(p string) bool {
	return strings.HasPrefix(p, "/dicomweb/") || p == "/dicomweb" || strings.HasPrefix(p, "/api/")
}

// RefuseEncodedBodies answers 415 to a request body sent with a
// Content-Encoding: Fiber would inflate it without a limit (a gzip bomb of a
// few hundred kilobytes takes gigabytes), and browsers never compress bodies.
func RefuseEncodedBodies(c fiber.Ctx) error {
	if ce := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)); ce != "" && !strings.EqualFold(ce, "identity") {
		return apperr.New(apperr.Unsupported, "error.encoding")
	}
	return c.Next()
}

// ErrorHandlerCSRF turns a CSRF rejection into the translated 403 page.
func ErrorHandlerCSRF(c fiber.Ctx, err error) error {
	slog.InfoContext(c.Context(), "csrf rejected", "request_id", c.RequestID(), "path", c.Path(), "reason", err.Error())
	return apperr.New(apperr.Forbidden, "error.csrf")
}
