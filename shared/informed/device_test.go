package informed

import (
	"testing"

	"github.com/radpass/radpass/shared/i18n"
)

// Real User-Agent strings become a coarse device; the stored form reads
// back, and anything else stored is no device.
func TestParseDevice(t *testing.T) {
	cases := map[string]string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "phone|ios|safari",
		"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1":  "tablet|ios|chrome",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36":                   "phone|android|chrome",
		"Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36":      "tablet|android|samsung",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0":           "computer|windows|edge",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0":                                                     "computer|macos|firefox",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/105.0.0.0":                     "computer|linux|opera",
		"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36":                          "computer|chromeos|chrome",
		"curl/8.5.0": "computer|other|other",
		"":           "computer|other|other",
	}
	for ua, want := range cases {
		d := ParseDevice(ua)
		if d.String() != want {
			t.Errorf("%q: %s, want %s", ua, d, want)
		}
		if back, ok := DeviceFromString(d.String()); !ok || back != d {
			t.Errorf("%s does not read back", d)
		}
	}
	for _, bad := range []string{"", "phone|ios", "phone|ios|safari|x", "watch|ios|safari", "phone|<b>|safari"} {
		if _, ok := DeviceFromString(bad); ok {
			t.Errorf("%q read as a device", bad)
		}
	}
	if got := ParseDevice(cases0()).Label(i18n.For("nl")); got != "Safari op iPhone/iPad (iOS) (telefoon)" {
		t.Errorf("Dutch label %q", got)
	}
}

func cases0() string {
	return "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
}
