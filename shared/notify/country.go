package notify

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// SMSAllowed reports whether an OTP may be sent by SMS to e164 (against SMS
// pumping): the number must be a valid mobile number ("+32470123456"; types
// MOBILE or FIXED_LINE_OR_MOBILE, so no premium-rate, shared-cost or other
// special numbers) and match one of allowedPrefixes. A prefix is either a
// dialling prefix ("+32", "+3247", "32": the number's E.164 form starts with
// it) or a two-letter region ("BE", "NL": the number belongs to it). An empty
// list allows nothing.
func SMSAllowed(e164 string, allowedPrefixes []string) bool {
	if !strings.HasPrefix(e164, "+") {
		return false
	}
	num, err := phonenumbers.Parse(e164, "")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return false
	}
	formatted := phonenumbers.Format(num, phonenumbers.E164)
	if formatted != e164 {
		// Not in canonical E.164 (spaces, a national trunk zero...): the
		// destination on file must be exactly what is sent.
		return false
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return false
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	for _, p := range allowedPrefixes {
		p = strings.TrimSpace(p)
		switch {
		case len(p) == 2 && strings.ToUpper(p) == p && strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == "":
			if p == region {
				return true
			}
		default:
			digits := strings.TrimPrefix(p, "+")
			if digits == "" || strings.Trim(digits, "0123456789") != "" {
				continue
			}
			if strings.HasPrefix(formatted, "+"+digits) {
				return true
			}
		}
	}
	return false
}
