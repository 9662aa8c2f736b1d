// Package otp makes and checks the one-time passwords sent by SMS or e-mail.
// (Placeholder API until the notify branch lands: Generate, Hash, Equal, Normalize.)
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rules of security requirement 3 and 7.
const (
	Digits         = 6
	TTL            = 10 * time.Minute
	CooldownResend = 60 * time.Second
	MaxSendsPerDay = 5
)

// Generate draws a uniform 6-digit code from crypto/rand.
func Generate() (string, error) {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		v := binary.BigEndian.Uint32(b[:])
		if v < 4294000000 { // a multiple of 10^6: no modulo bias
			return fmt.Sprintf("%06d", v%1000000), nil
		}
	}
}

// Hash binds a code to its bucket under key.
func Hash(key []byte, bucketID int64, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("otp:" + strconv.FormatInt(bucketID, 10) + ":" + code))
	return m.Sum(nil)
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return hmac.Equal(a, b) }

// Normalize accepts spaces and dashes; the result is exactly 6 digits.
func Normalize(s string) (string, bool) {
	s = strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s))
	if len(s) != Digits {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}
