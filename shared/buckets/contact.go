package buckets

// MobileE164 is the print form's rule for a mobile number (written the local
// way for region, or with its prefix), in E.164; other forms reuse it.
func MobileE164(s, region string) (string, bool) { return mobileE164(s, region) }

// ValidEmail is the print form's rule for an e-mail address.
func ValidEmail(s string) bool { return validEmail(s) }
