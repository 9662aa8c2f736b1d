package staff

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/refnum"
)

// The number sealed into the session opens only for its bucket and key, and
// any change to the sealed text is detected (issue 9 item 16).
func TestSealBindsTheNumberToItsBucket(t *testing.T) {
	n, err := refnum.New()
	if err != nil {
		t.Fatal(err)
	}
	d := &PrintDeps{Key: []byte("seal-test-secret-0123456789abcdef")}
	sealed, err := d.seal(41, n)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(sealed), n.Canonical()) {
		t.Fatal("the sealed text holds the number")
	}
	if again, _ := d.seal(41, n); again == sealed {
		t.Fatal("sealing twice gave the same text (no fresh nonce)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1 // one bit of the ciphertext
	flip := base64.RawURLEncoding.EncodeToString(raw)
	cases := []struct {
		name   string
		deps   *PrintDeps
		bucket int64
		sealed string
		opens  bool
	}{
		{"its bucket", d, 41, sealed, true},
		{"another bucket", d, 42, sealed, false},
		{"bucket 14 (same digits)", d, 14, sealed, false},
		{"another server key", &PrintDeps{Key: []byte("another-secret-0123456789abcdef00")}, 41, sealed, false},
		{"changed text", d, 41, string(flip), false},
		{"truncated", d, 41, sealed[:10], false},
		{"empty", d, 41, "", false},
		{"not base64", d, 41, "!!!", false},
	}
	for _, tc := range cases {
		got, err := tc.deps.open(tc.bucket, tc.sealed)
		if tc.opens {
			if err != nil || got.Canonical() != n.Canonical() {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: opened", tc.name)
		}
	}
}
