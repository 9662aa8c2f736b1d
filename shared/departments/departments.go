// Package departments holds the rules of a department's settings that other
// parts rely on: the SMS country prefixes and sender id (the OTP sender), the
// verification types staff may choose (the print form) and the letter-header
// logo (shared/letter), checked and re-encoded here.
package departments

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Verification types, in the order forms offer them.
var Verifications = []string{"sms", "email", "dob"}

// MaxPrefixes bounds the allowed SMS country prefixes of one department.
const MaxPrefixes = 50

// callingCodes are the ITU-T E.164 country calling codes in use (1 and 7
// are shared zones; international services such as 800, 870, 881, 882, 883
// and 888 are left out: an SMS OTP goes to a country's mobile network).
var callingCodes = func() map[string]bool {
	list := `1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58
60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98
211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239
240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 260 261 262 263 264 265
266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375
376 377 378 379 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509
590 591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686
687 688 689 690 691 692 850 852 853 855 856 880 886 960 961 962 963 964 965 966 967 968 970 971 972
973 974 975 976 977 992 993 994 995 996 998`
	m := map[string]bool{}
	for _, c := range strings.Fields(list) {
		m[c] = true
	}
	return m
}()

// ValidCallingCode reports whether cc (digits, no "+") is a country calling code.
func ValidCallingCode(cc string) bool { return callingCodes[cc] }

// ParsePrefixes reads a list of country calling codes as typed ("+32, +31 49"):
// separated by commas, semicolons or spaces, each with an optional "+" or
// "00". It returns them sorted and deduplicated, or the first bad one.
func ParsePrefixes(s string) (codes []string, bad string) {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		cc := strings.TrimPrefix(f, "+")
		if cc == f {
			cc = strings.TrimPrefix(f, "00")
		}
		if !ValidCallingCode(cc) {
			return nil, f
		}
		if !slices.Contains(codes, cc) {
			codes = append(codes, cc)
		}
	}
	slices.SortFunc(codes, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	if codes == nil {
		codes = []string{}
	}
	return codes, ""
}

// FormatPrefixes shows codes as the form takes them: "+31, +32".
func FormatPrefixes(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = "+" + c
	}
	return strings.Join(out, ", ")
}

var (
	senderAlnum  = regexp.MustCompile(`^[A-Za-z0-9]{1,11}$`)
	senderNumber = regexp.MustCompile(`^[0-9]{1,15}$`)
	hasLetter    = regexp.MustCompile(`[A-Za-z]`)
)

// ValidSender checks a Vonage SMS sender id ("from"): up to 11 letters and
// digits with at least one letter (alphanumeric sender), or a phone number of
// up to 15 digits in international format without "+" (E.164). Empty means
// the server's default sender.
func ValidSender(s string) bool {
	switch {
	case s == "":
		return true
	case senderNumber.MatchString(s):
		return true
	default:
		return senderAlnum.MatchString(s) && hasLetter.MatchString(s)
	}
}

// ParseVerifications keeps the known verification types of vs in the
// canonical order; ok is false when one is unknown or none is left.
func ParseVerifications(vs []string) (out []string, ok bool) {
	for _, v := range vs {
		if !slices.Contains(Verifications, v) {
			return nil, false
		}
	}
	for _, v := range Verifications {
		if slices.Contains(vs, v) {
			out = append(out, v)
		}
	}
	return out, len(out) > 0
}

// SingleLine reports whether s fits on one line: no line break and no other
// control character (CR, LF, tab, NEL, the Unicode line and paragraph
// separators). A department's name and contact person go into one line of
// the SMS text and of the letter, where a line break would split or forge it.
func SingleLine(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}
