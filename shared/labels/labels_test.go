package labels_test

import (
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/labels"
)

func TestParseTarget(t *testing.T) {
	u := &database.User{ID: 5}
	for in, want := range map[string]string{"": "u5", "me": "u5", "u:9": "u9", "g:3": "g3", "g:x": "bad", "x:1": "bad", "g:-1": "bad", "g:": "bad"} {
		tg, ok := labels.ParseTarget(u, in)
		got := "bad"
		switch {
		case ok && tg.UserID != nil:
			got = "u" + itoa(*tg.UserID)
		case ok && tg.GroupID != nil:
			got = "g" + itoa(*tg.GroupID)
		}
		if got != want {
			t.Errorf("ParseTarget(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPalette(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range labels.Palette {
		if !labels.ValidColour(c.Hex) || seen[c.Hex] {
			t.Errorf("palette colour %s", c.Hex)
		}
		seen[c.Hex] = true
	}
	for _, bad := range []string{"", "#C0392B", "red", "#000000", "#c0392b "} {
		if labels.ValidColour(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func itoa(n int64) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}
