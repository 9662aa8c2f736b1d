package notify_test

import (
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/notify"
)

func TestSMSSegments(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		segments int
		unicode  bool
	}{
		{"empty", "", 1, false},
		{"ascii", "123456 is your code", 1, false},
		{"gsm accents", "éèùìòÇÄÖÑÜäöñüàß£¥§¿¡ΔΦΓΛΩΠΨΣΘΞ", 1, false},
		{"160 septets", strings.Repeat("a", 160), 1, false},
		{"161 septets", strings.Repeat("a", 161), 2, false},
		{"306 septets", strings.Repeat("a", 306), 2, false},
		{"307 septets", strings.Repeat("a", 307), 3, false},
		{"extension counts double", strings.Repeat("€", 80), 1, false},
		{"extension over the edge", strings.Repeat("€", 80) + "a", 2, false},
		{"french circumflex is unicode", "ô", 1, true},
		{"lower-case c cedilla is unicode", "ç", 1, true},
		{"em dash is unicode", "—", 1, true},
		{"70 ucs-2", strings.Repeat("ô", 70), 1, true},
		{"71 ucs-2", strings.Repeat("ô", 71), 2, true},
		{"emoji takes two units", strings.Repeat("😀", 35), 1, true},
		{"emoji over the edge", strings.Repeat("😀", 35) + "a", 2, true},
	}
	for _, tt := range tests {
		n, u := notify.SMSSegments(tt.text)
		if n != tt.segments || u != tt.unicode {
			t.Errorf("%s: %d segments, unicode %v; want %d, %v", tt.name, n, u, tt.segments, tt.unicode)
		}
		if notify.GSM7(tt.text) == tt.unicode {
			t.Errorf("%s: GSM7 disagrees", tt.name)
		}
	}
}
