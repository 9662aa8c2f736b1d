package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/web"
)

// legacyMAC is HMAC-SHA256(key, prefix || data), the code that wrote the
// hashes existing databases hold, before shared/keys.
func legacyMAC(k []byte, prefix, data string) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(prefix))
	m.Write([]byte(data))
	return m.Sum(nil)
}

// Session-id hashes are stored: the row written for a cookie must carry
// exactly these fixed bytes, or every open session ends at an upgrade.
func TestSessionIDHashKeepsStoredBytes(t *testing.T) {
	db := testdb.New(t)
	for _, kind := range []string{"staff", "patient"} {
		st := web.NewPGStore(db, kind, key, time.Hour, 2*time.Hour, false)
		c := save(t, st, map[any]any{"k": "v"})
		var got []byte
		if err := db.NewRaw(`SELECT id_hash FROM sessions WHERE kind = ?`, kind).Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		if want := legacyMAC(key, "session:"+kind+":", c.Value); !bytes.Equal(got, want) {
			t.Fatalf("%s: stored id hash %x, earlier code %x", kind, got, want)
		}
	}
}
