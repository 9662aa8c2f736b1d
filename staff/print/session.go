package print

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/keys"
	"github.com/radpass/radpass/shared/refnum"
)

// The plaintext reference number of a fresh print is kept only in the staff
// user's server-side session, so PRINT THIS INFORMATION can print the same
// number in another language. It is sealed (AES-GCM under a key derived from
// the server secret) so even the sessions table holds no readable number, and
// only the latest print is kept.
const (
	sessionPrintRefs = "print.refs"
	// printRefTTL bounds "while the confirmation is open": past it (or once a
	// new print starts) the number is gone for good; PRINT AGAIN makes a new one.
	printRefTTL = 30 * time.Minute
)

// sealKey is the key that seals reference numbers in the session.
func sealKey(key []byte) []byte { return keys.Derive(key, keys.PrintSessionSeal) }

func seal(key []byte, bucketID int64, n refnum.Number) (string, error) {
	block, err := aes.NewCipher(sealKey(key))
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	// The bucket id is the additional data: a sealed number opens only for its bucket.
	out := gcm.Seal(nonce, nonce, []byte(n.Canonical()), []byte(strconv.FormatInt(bucketID, 10)))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func open(key []byte, bucketID int64, sealed string) (refnum.Number, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return refnum.Number{}, err
	}
	block, err := aes.NewCipher(sealKey(key))
	if err != nil {
		return refnum.Number{}, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return refnum.Number{}, err
	}
	if len(b) < gcm.NonceSize() {
		return refnum.Number{}, errors.New("sealed reference too short")
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte(strconv.FormatInt(bucketID, 10)))
	if err != nil {
		return refnum.Number{}, err
	}
	return refnum.Parse(string(plain))
}

// rememberRef stores the sealed number of bucketID in the session, replacing
// any earlier one, through db (the print's transaction).
func (h *Handlers) rememberRef(c fiber.Ctx, db bun.IDB, bucketID int64, n refnum.Number) error {
	sealed, err := seal(h.Print.Key, bucketID, n)
	if err != nil {
		return err
	}
	s, err := h.Sessions.Get(c)
	if err != nil {
		return err
	}
	// Only the latest print is kept: a new print closes the previous confirmation.
	refs := map[string]string{strconv.FormatInt(bucketID, 10): strconv.FormatInt(h.Print.Clock().UnixNano(), 36) + "|" + sealed}
	s.Values[sessionPrintRefs] = refs
	return h.Sessions.SaveWith(c, s, db)
}

// recallRef returns the number of bucketID while this session still holds it.
func (h *Handlers) recallRef(c fiber.Ctx, bucketID int64) (refnum.Number, bool) {
	s, err := h.Sessions.Get(c)
	if err != nil {
		return refnum.Number{}, false
	}
	refs, _ := s.Values[sessionPrintRefs].(map[string]string)
	v, ok := refs[strconv.FormatInt(bucketID, 10)]
	if !ok {
		return refnum.Number{}, false
	}
	stamp, sealed, _ := strings.Cut(v, "|")
	at, err := strconv.ParseInt(stamp, 36, 64)
	if err != nil || h.Print.Clock().Sub(time.Unix(0, at)) > printRefTTL {
		return refnum.Number{}, false
	}
	n, err := open(h.Print.Key, bucketID, sealed)
	if err != nil {
		return refnum.Number{}, false
	}
	return n, true
}
