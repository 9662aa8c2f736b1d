package refnum_test

import (
	"encoding/hex"
	"testing"

	"github.com/radpass/radpass/shared/refnum"
)

// Databases hold these hashes: the bytes of Hash must never change. The
// vector was computed outside Go:
//
//	printf '%s' 'refnum:ABCDEFGHJKMNPQRSD' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
func TestHashFixedVector(t *testing.T) {
	n, err := refnum.Parse("abcd-efgh-jkmn-pqrs-d")
	if err != nil {
		t.Fatal(err)
	}
	got := hex.EncodeToString(refnum.Hash([]byte("0123456789abcdef0123456789abcdef"), n))
	if want := "b97f08debf646c76b73f4a6d724cb14c4a59b722f908a7c4548e551ca9a2957e"; got != want {
		t.Fatalf("Hash = %s, stored hashes are %s", got, want)
	}
}
