// Package buckets is everything a bucket is and does: the print transaction
// that creates one, the look-up by reference number, the birth-date and
// one-time-password checks with their atomic failure counter, unlock, revoke,
// extend, the studies of a bucket, and the one access check that answers
// "may this staff user or this patient bucket see this". No HTTP here: staff
// and patient handlers are thin callers.
package buckets

import (
	"errors"

	"github.com/radpass/radpass/shared/apperr"
	"time"

	"github.com/uptrace/bun"
)

// MaxFailures consecutive failed checks (birth date or one-time password)
// block a bucket until a service desk user or a department admin unlocks it.
const MaxFailures = 5

// MaxBlockedProbes is how many birth-date checks a blocked or revoked bucket
// answers truthfully ("blocked, call ..."); after that every answer is the
// generic refusal, so a closed bucket cannot be used to guess the birth date.
const MaxBlockedProbes = 5

// Errors of the domain; handlers map them to pages.
var (
	// ErrNotFound answers 404 by itself (an apperr): another department's or
	// another bucket's object looks like no object at all.
	ErrNotFound  = apperr.New(apperr.NotFound, "error.notfound")
	ErrNotActive = errors.New("buckets: not active")
	ErrCooldown  = errors.New("buckets: a code was sent less than a minute ago")
	ErrSendLimit = errors.New("buckets: too many codes sent")
	ErrIPLimit   = errors.New("buckets: too many requests from this address")
	ErrCountry   = errors.New("buckets: SMS country not allowed")
	ErrNoOTP     = errors.New("buckets: this bucket does not use a one-time password")
	ErrState     = errors.New("buckets: the bucket's state does not allow this")
	ErrValidity  = errors.New("buckets: validity date out of range")
)

// Service holds what the bucket operations need: the database, the server
// secret (keyed hashes of numbers and codes) and a clock tests can move.
type Service struct {
	DB  *bun.DB
	Key []byte
	Now func() time.Time

	forms formFlights // submits of one form token in flight (Create)
	gate  signInGate  // sign-ins talking to PostgreSQL, admitted in arrival order
	reads bucketReads // prepared bucket reads (sign-in, Get)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Today is the calendar date (UTC midnight) validity dates compare with.
func (s *Service) Today() time.Time {
	y, m, d := s.now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Actor is who does something, for the audit trail.
type Actor struct {
	Kind   string // "staff", "patient", "system"
	UserID *int64
	Name   string
	IP     string
}

// Time is the service's clock (tests move it).
func (s *Service) Time() time.Time { return s.now() }
