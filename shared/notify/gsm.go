package notify

import "unicode/utf16"

// The GSM 03.38 default alphabet (one septet each) and its extension table
// (two septets each: escape + character).
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

var gsmSeptets = func() map[rune]int {
	m := map[rune]int{}
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// GSM7 reports whether text is written in the GSM 7-bit alphabet; otherwise
// the SMS must be sent as unicode (UCS-2), which fits 70 characters instead
// of 160 in one segment.
func GSM7(text string) bool {
	for _, r := range text {
		if gsmSeptets[r] == 0 {
			return false
		}
	}
	return true
}

// SMSSegments is the number of SMS segments text takes and whether it is
// sent as unicode: GSM-7 fits 160 septets in one segment (153 per segment
// when concatenated), UCS-2 fits 70 UTF-16 units (67 when concatenated).
func SMSSegments(text string) (segments int, unicode bool) {
	if GSM7(text) {
		n := 0
		for _, r := range text {
			n += gsmSeptets[r]
		}
		return split(n, 160, 153), false
	}
	return split(len(utf16.Encode([]rune(text))), 70, 67), true
}

func split(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
