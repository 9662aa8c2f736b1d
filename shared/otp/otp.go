// Package otp makes and checks the 6-digit one-time passwords sent to
// patients by SMS or e-mail. A code is drawn uniformly from crypto/rand, and
// only its keyed hash, bound to one bucket, is ever stored: a database dump
// opens nothing, and a code issued for bucket A never matches bucket B.
//
// Storage, expiry, single use and the failure counter belong to the bucket
// (package buckets); this package holds the code itself and the rules'
// constants.
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"io"
	"strings"
	"time"

	"github.com/radpass/radpass/shared/keys"
)

const (
	// Digits is the length of a code.
	Digits = 6
	// TTL is how long a code is valid after it was sent.
	TTL = 10 * time.Minute
	// CooldownResend is the least time between two sends for one bucket.
	CooldownResend = 60 * time.Second
	// MaxSendsPerDay caps the sends for one bucket in any 24 hours.
	MaxSendsPerDay = 5
	// MaxFailedSendsPerDay caps the send attempts that failed for one bucket
	// in any 24 hours. A failed send counts for no other limit (the patient
	// may try again at once), but "failed" is often not "not delivered": a
	// timeout or a gateway error after the provider took the message still
	// reaches the phone (and is billed), so without this cap a flaky provider
	// would let one session send an SMS per click.
	MaxFailedSendsPerDay = 20
)

// space is the number of codes: 10^Digits.
const space = 1_000_000

// limit is the largest multiple of space that fits in 32 bits: values at or
// above it are drawn again, so every code is exactly equally likely.
const limit = (1 << 32) / space * space

// Generate returns a new code of Digits decimal digits (leading zeros kept).
func Generate() (string, error) {
	return generate(rand.Reader)
}

func generate(r io.Reader) (string, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", err
		}
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return format(v % space), nil
		}
	}
}

func format(v uint32) string {
	var out [Digits]byte
	for i := Digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out[:])
}

// Hash is the keyed hash stored for a code: HMAC-SHA256 under the server
// secret in the keys.OTPHash domain over the bucket id (8 bytes, big endian)
// and the code. Pass the code as Normalize returned it.
func Hash(key []byte, bucketID int64, code string) []byte {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(bucketID))
	return keys.Sum(key, keys.OTPHash, id[:], []byte(code))
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool {
	return hmac.Equal(a, b)
}

// Normalize reads what the patient typed: spaces and dashes anywhere are
// ignored ("123 456", "123-456"); the rest must be exactly Digits ASCII
// digits. It reports false for anything else, without saying why.
func Normalize(input string) (string, bool) {
	var b strings.Builder
	for _, r := range input {
		switch {
		case r >= '0' && r <= '9':
			if b.Len() == Digits {
				return "", false
			}
			b.WriteRune(r)
		case r == ' ' || r == '\t' || r == '-' || r == '\u00a0' || r == '\u202f' || (r >= '\u2010' && r <= '\u2015') || r == '\u2212':
			// separators a phone keyboard or a copy-paste may add
		default:
			return "", false
		}
	}
	if b.Len() != Digits {
		return "", false
	}
	return b.String(), true
}
