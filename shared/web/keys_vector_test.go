package web_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testdb"
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
// exactly the bytes the earlier code computed, or every open session ends.
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

// A CSRF token signed by the earlier code (issued before an upgrade) stays valid.
func TestCSRFTokenOfEarlierCodeStaysValid(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tok := &web.CSRFTokens{Key: key, MaxAge: time.Hour, Now: func() time.Time { return now }}
	body := "AAAAAAAAAAAAAAAAAAAAAAAA." + strconv.FormatInt(now.Unix(), 36)
	old := body + "." + base64.RawURLEncoding.EncodeToString(legacyMAC(key, "csrf:", body)[:18])
	if !tok.Valid(old) {
		t.Fatal("a token of the earlier code is refused")
	}
	if tok.Valid(old[:len(old)-1] + "A") {
		t.Fatal("a forged token is accepted")
	}
}
