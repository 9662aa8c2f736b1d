// Package buckets is everything a bucket is and does: the print transaction
// that creates one, the look-up by reference number, the birth-date and
// one-time-password checks with their atomic failure counter, unlock, revoke,
// extend, the studies of a bucket, and the one access check that answers
// "may this staff user or this patient bucket see this". No HTTP here: staff
// and patient handlers are thin callers.
package buckets

import (
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/metrics"
	"github.com/radpass/radpass/shared/printing"
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
// secret (keyed hashes of numbers and codes), a clock tests can move, the
// time zone whose calendar validity dates belong to, and the letter printer.
type Service struct {
	DB   *bun.DB
	Key  []byte
	Now  func() time.Time
	Zone *time.Location // RADPASS_TIMEZONE; nil = the process's local zone
	// Letters renders the letter inside a print (no bucket whose letter
	// cannot be printed) and keeps it for "Print immediately"; nil renders
	// nothing (seeding, domain tests).
	Letters *printing.Printer
	// Metrics counts prints, sign-in outcomes, blocks and unlocks (nil: off).
	Metrics *metrics.Metrics

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

// Today is the date validity dates compare with, for print, extend, expiry
// and sign-in alike: Today(now, zone).
func (s *Service) Today() time.Time { return Today(s.now(), s.Zone) }

// Time is the service's clock (tests move it).
func (s *Service) Time() time.Time { return s.now() }
