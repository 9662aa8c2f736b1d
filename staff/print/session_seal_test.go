package print

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/refnum"
)

// The number sealed into the session opens only for its bucket and key, and
// any change to the sealed text is detected.
func TestSealBindsTheNumberToItsBucket(t *testing.T) {
	n, err := refnum.New()
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("seal-test-secret-0123456789abcdef")
	sealed, err := seal(key, 41, n)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToUpper(sealed), n.Canonical()) {
		t.Fatal("the sealed text holds the number")
	}
	if again, _ := seal(key, 41, n); again == sealed {
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
		key    []byte
		bucket int64
		sealed string
		opens  bool
	}{
		{"its bucket", key, 41, sealed, true},
		{"another bucket", key, 42, sealed, false},
		{"bucket 14 (same digits)", key, 14, sealed, false},
		{"another server key", []byte("another-secret-0123456789abcdef00"), 41, sealed, false},
		{"changed text", key, 41, string(flip), false},
		{"truncated", key, 41, sealed[:10], false},
		{"empty", key, 41, "", false},
		{"not base64", key, 41, "!!!", false},
	}
	for _, tc := range cases {
		got, err := open(tc.key, tc.bucket, tc.sealed)
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
