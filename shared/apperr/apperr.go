// Package apperr holds RadPass's error codes and the one table mapping them to
// HTTP status. An Error carries an i18n message id, never internal text, so
// handlers can show it to the user as it is.
package apperr

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"
)

// Codes.
const (
	Invalid      = "invalid"      // the input is wrong; the message says how
	NotFound     = "not_found"    // nothing there, or nothing the caller may see
	Forbidden    = "forbidden"    // signed in, but not allowed
	Unauthorized = "unauthorized" // not signed in
	Conflict     = "conflict"     // already exists / state does not allow it
	TooMany      = "too_many"     // throttled
	TooLarge     = "too_large"    // body or field over the limit
	Unsupported  = "unsupported"  // content type or encoding we do not take
	Internal     = "internal"     // our fault; details only in the log
	Unavailable  = "unavailable"  // a service we need (the database) is down: try again later
)

var status = map[string]int{
	Invalid:      http.StatusUnprocessableEntity,
	NotFound:     http.StatusNotFound,
	Forbidden:    http.StatusForbidden,
	Unauthorized: http.StatusUnauthorized,
	Conflict:     http.StatusConflict,
	TooMany:      http.StatusTooManyRequests,
	TooLarge:     http.StatusRequestEntityTooLarge,
	Unsupported:  http.StatusUnsupportedMediaType,
	Internal:     http.StatusInternalServerError,
	Unavailable:  http.StatusServiceUnavailable,
}

// RetryAfter is the Retry-After, in seconds, of an Unavailable answer.
const RetryAfter = 15

// Error is a user-facing error: Key is the i18n message id, Args its data.
type Error struct {
	Code  string
	Key   string
	Args  []any
	Field string // form field it belongs to, if any
}

func (e *Error) Error() string { return e.Code + ": " + e.Key }

// New makes an Error with an i18n key and name/value args.
func New(code, key string, args ...any) *Error { return &Error{Code: code, Key: key, Args: args} }

// Field makes an Invalid error bound to a form field.
func Field(field, key string, args ...any) *Error {
	return &Error{Code: Invalid, Key: key, Args: args, Field: field}
}

// CodeOf returns the code of err, Internal for anything that is not an *Error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Status maps a code to its HTTP status.
func Status(code string) int {
	if s, ok := status[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// IsUnavailable reports an error that says the database cannot be reached
// (refused, reset or cut connections, a server shutting down or starting up)
// rather than a fault of the request: it is answered 503 with Retry-After.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code == Unavailable
	}
	var pg pgdriver.Error
	if errors.As(err, &pg) {
		// Class 08: connection exception; 57P01-03: admin shutdown, crash
		// shutdown, cannot connect now (starting up or shutting down).
		code := pg.Field('C')
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, net.ErrClosed)
}
