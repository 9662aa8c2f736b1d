package buckets

import (
	"testing"
)

func TestMobileE164(t *testing.T) {
	cases := []struct {
		in, region, want string
		ok               bool
	}{
		{"0470 12 34 89", "BE", "+32470123489", true},
		{"+32 470 12 34 89", "BE", "+32470123489", true},
		{"06 12345678", "NL", "+31612345678", true},
		{"0151 23456789", "DE", "+4915123456789", true},
		{"06 12 34 56 78", "FR", "+33612345678", true},
		{"02 555 12 34", "BE", "", false},   // Brussels landline
		{"+31 6 12345678", "BE", "", false}, // a Dutch mobile under the Belgian prefix
		{"0470", "BE", "", false},           // too short
		{"not a number", "BE", "", false},
	}
	for _, c := range cases {
		got, ok := mobileE164(c.in, c.region)
		if ok != c.ok || got != c.want {
			t.Errorf("mobileE164(%q, %s) = %q, %v; want %q, %v", c.in, c.region, got, ok, c.want, c.ok)
		}
	}
}

func TestValidEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"zoe@example.org": true, "zoë.łukasik@exämple.de": true, "a.b+c@sub.example.co.uk": true,
		"": false, "zoe": false, "zoe@localhost": false, "Zoë <zoe@example.org>": false, "zoe@@example.org": false,
		"zoe @example.org": false, "zoe@example.org.": false, "@example.org": false,
	} {
		if got := validEmail(in); got != want {
			t.Errorf("validEmail(%q) = %v, want %v", in, got, want)
		}
	}
}
