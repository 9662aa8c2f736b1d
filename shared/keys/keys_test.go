package keys_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/keys"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// Fixed vectors: these bytes are stored in databases (refnum and session-id
// hashes) or seal live state; a change here breaks existing installations.
func TestFixedVectors(t *testing.T) {
	// The vectors are computed with crypto/hmac directly
	// (HMAC(secret, prefix || data)), not through the package, and pinned
	// as hex so that a change of either side fails.
	vectors := []struct {
		name    string
		got     []byte
		legacy  []byte
		pinnedH string
	}{
		{"refnum", keys.Sum(secret, keys.RefnumHash, []byte("ABCDEFGHJKLMNPQRC")), legacy("refnum:", "ABCDEFGHJKLMNPQRC"), pinned["refnum"]},
		{"session", keys.Sum(secret, keys.SessionID, []byte("staff:"), []byte("the-session-id")), legacy("session:staff:", "the-session-id"), pinned["session"]},
		{"csrf", keys.Sum(secret, keys.CSRF, []byte("body.123")), legacy("csrf:", "body.123"), pinned["csrf"]},
		{"print seal", keys.Derive(secret, keys.PrintSessionSeal), legacy("print-session-seal", ""), pinned["seal"]},
	}
	for _, v := range vectors {
		if !bytes.Equal(v.got, v.legacy) {
			t.Errorf("%s: %x, the pre-keys code made %x", v.name, v.got, v.legacy)
		}
		if hex.EncodeToString(v.got) != v.pinnedH {
			t.Errorf("%s: %x, pinned %s", v.name, v.got, v.pinnedH)
		}
	}
}

var pinned = map[string]string{
	// printf '%s' 'refnum:ABCDEFGHJKLMNPQRC' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
	"refnum":  "893597a04a2ec57b51b8bc456fd4a95e52e6e29332a77e1396cd8a47d18b457c",
	"session": "3f2f6f44e67622b65d628b08ecaecc6c1c5628279b312d7bc200bfe7e300263a",
	"csrf":    "379e73a322ead84f335c2ee207c565b812fed60a68f5e4adf44a838c69c43e8f",
	"seal":    "f99dc01923c1d841963456b5d8ce0b6c3e4d7abe46cd35257bc96a423c42caca",
}

func legacy(prefix, data string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(prefix))
	m.Write([]byte(data))
	return m.Sum(nil)
}

func TestPurposesArePrefixFree(t *testing.T) {
	for i, a := range keys.Purposes {
		if a == "" {
			t.Fatalf("purpose %d is empty", i)
		}
		for j, b := range keys.Purposes {
			if i != j && strings.HasPrefix(b, a) {
				t.Errorf("purpose %q is a prefix of %q", a, b)
			}
		}
	}
}

func TestDeriveSeparatesPurposesAndSecrets(t *testing.T) {
	seen := map[string]string{}
	for _, s := range [][]byte{secret, []byte("another secret of enough length!!")} {
		for _, p := range keys.Purposes {
			k := keys.Derive(s, p)
			if len(k) != 32 {
				t.Fatalf("%s: key of %d bytes", p, len(k))
			}
			if prev, dup := seen[string(k)]; dup {
				t.Fatalf("%s and %s derive the same key", prev, p)
			}
			seen[string(k)] = p + "/" + string(s)
		}
	}
}

func TestSumSplitsMessageAnywhere(t *testing.T) {
	// Sum hashes the concatenation: how msg is split does not matter.
	a := keys.Sum(secret, keys.SessionID, []byte("staff:abc"))
	b := keys.Sum(secret, keys.SessionID, []byte("staff:"), []byte("abc"))
	if !bytes.Equal(a, b) {
		t.Fatal("split message hashes differently")
	}
	if bytes.Equal(a, keys.Sum(secret, keys.SessionID, []byte("staff:abd"))) {
		t.Fatal("different messages hash the same")
	}
}
