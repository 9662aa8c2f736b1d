// Package refnum makes and checks the reference numbers printed on patient
// letters. A number is 16 random characters (79 bits from crypto/rand) over an
// alphabet without look-alikes, plus one check character, printed in groups of
// four for reading aloud: XXXX-XXXX-XXXX-XXXX-C. Only its keyed hash is ever
// stored; the plaintext lives in the letter and, briefly, in the staff session.
package refnum

import (
	"crypto/rand"
	"errors"
	"log/slog"
	"strings"

	"github.com/radpass/radpass/shared/keys"
)

// Alphabet has 31 symbols: digits 2-9 and A-Z without I, L and O (no 0/O,
// 1/I/L confusion). 31 is prime, which is what makes the check character work.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// DataLen random characters carry 16*log2(31) ≈ 79.3 bits (≥ 64 required).
const DataLen = 16

// Len is the canonical length: data plus the check character.
const Len = DataLen + 1

const modulus = len(Alphabet) // 31

var index [256]int8

func init() {
	for i := range index {
		index[i] = -1
	}
	for i := 0; i < len(Alphabet); i++ {
		index[Alphabet[i]] = int8(i)
	}
}

// Errors of Parse: a malformed number is told apart from a typo the check
// character caught, so the patient side can say "check what you typed"
// before any attempt is counted.
var (
	ErrFormat = errors.New("refnum: not a reference number")
	ErrCheck  = errors.New("refnum: check character does not match")
)

// Number is a valid reference number in canonical form (17 characters, no
// dashes). Its String and LogValue are redacted so it cannot slip into a log
// by accident; Grouped and Canonical give the plaintext on purpose.
type Number struct{ s string }

// New draws a fresh number from crypto/rand. Each character comes from one
// random byte below 248 = 8·31 (bytes of 248 and up are redrawn), so every
// symbol is exactly equally likely.
func New() (Number, error) {
	var out [Len]byte
	var buf [2 * DataLen]byte
	for n := 0; n < DataLen; {
		if _, err := rand.Read(buf[:]); err != nil {
			return Number{}, err
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out[n] = Alphabet[int(b)%modulus]
			n++
			if n == DataLen {
				break
			}
		}
	}
	out[DataLen] = Alphabet[CheckChar(string(out[:DataLen]))]
	return Number{string(out[:])}, nil
}

// weight of position i (0-based) is i+1: distinct and non-zero modulo 31 for
// all 17 positions, so
//   - a single substitution changes the sum by w·d with d ≠ 0 (mod 31), never 0;
//   - swapping neighbours a,b changes it by (w_i − w_{i+1})(a − b) = b − a ≠ 0.
//
// The check character c completes Σ w_i·v_i ≡ 0 (mod 31).
func weight(i int) int { return i + 1 }

// CheckChar returns the index in Alphabet of the check character for data
// (DataLen valid characters).
func CheckChar(data string) int {
	sum := 0
	for i := 0; i < len(data); i++ {
		sum += weight(i) * int(index[data[i]])
	}
	// weight(DataLen)·c ≡ −sum  →  c = −sum · weight(DataLen)⁻¹
	inv := modInverse(weight(len(data)))
	c := ((modulus - sum%modulus) % modulus) * inv % modulus
	return c
}

// Valid reports whether canonical (Len alphabet characters) satisfies the check equation.
func Valid(canonical string) bool {
	if len(canonical) != Len {
		return false
	}
	sum := 0
	for i := 0; i < len(canonical); i++ {
		v := index[canonical[i]]
		if v < 0 {
			return false
		}
		sum += weight(i) * int(v)
	}
	return sum%modulus == 0
}

func modInverse(a int) int {
	a %= modulus
	for x := 1; x < modulus; x++ {
		if a*x%modulus == 1 {
			return x
		}
	}
	panic("refnum: no inverse")
}

// Normalize upper-cases s and drops spaces, dashes, dots and other
// separators people type, without checking anything else.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(Len)
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r == ' ' || r == '-' || r == '.' || r == '_' || r == '\t' || r == '\u00a0' || r == '\u2010' || r == '\u2011' || r == '\u2013':
			// separators are forgiven
		default:
			b.WriteRune(r)
		}
		if b.Len() > 4*Len { // absurd input: stop early
			break
		}
	}
	return b.String()
}

// Parse accepts what a patient types (any case, spaces, dashes) and returns
// the number, ErrFormat when it cannot be one, or ErrCheck for a typo.
func Parse(s string) (Number, error) {
	if len(s) > 100 {
		return Number{}, ErrFormat
	}
	c := Normalize(s)
	if len(c) != Len {
		return Number{}, ErrFormat
	}
	for i := 0; i < len(c); i++ {
		if index[c[i]] < 0 {
			return Number{}, ErrFormat
		}
	}
	if !Valid(c) {
		return Number{}, ErrCheck
	}
	return Number{c}, nil
}

// IsZero reports the zero Number.
func (n Number) IsZero() bool { return n.s == "" }

// Canonical is the 17 characters without dashes (for URLs and hashing).
func (n Number) Canonical() string { return n.s }

// Grouped is the printed form XXXX-XXXX-XXXX-XXXX-C.
func (n Number) Grouped() string {
	if n.s == "" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(n.s); i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(n.s[i])
	}
	return b.String()
}

// String is redacted: fmt and logs never print the plaintext.
func (n Number) String() string { return "refnum(redacted)" }

// LogValue keeps slog from printing the plaintext.
func (n Number) LogValue() slog.Value { return slog.StringValue("refnum(redacted)") }

// Hash is the keyed hash stored for lookup: HMAC-SHA256 under the server key
// in the keys.RefnumHash domain, so it cannot be confused with other HMACs of
// that key. Stored hashes depend on these exact bytes (a test pins a vector).
func Hash(key []byte, n Number) []byte {
	return keys.Sum(key, keys.RefnumHash, []byte(n.s))
}
