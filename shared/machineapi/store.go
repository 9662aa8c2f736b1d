package machineapi

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/keys"
	"github.com/radpass/radpass/shared/refnum"
)

// record is what the API keeps of an access it created (api_accesses).
type record struct {
	bun.BaseModel `bun:"table:api_accesses"`

	BucketID        int64     `bun:"bucket_id,pk"`
	TokenID         int64     `bun:"token_id"`
	IdempotencyHash []byte    `bun:"idempotency_hash"`
	RequestHash     []byte    `bun:"request_hash"`
	SealedRef       *string   `bun:"sealed_ref"` // nil once the letter's time is over
	LetterUntil     time.Time `bun:"letter_until"`
}

// letterOpen: the number is still kept for the letter at now.
func (r *record) letterOpen(now time.Time) bool {
	return r.SealedRef != nil && now.Before(r.LetterUntil)
}

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 255

// validIdempotencyKey: 1 to 255 visible ASCII characters.
func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// formToken is the print's form token for an Idempotency-Key: a well-formed
// token (buckets.CleanFormToken) that is the same for the same key, so
// buckets.Create makes one access per key and token.
func formToken(key string) string {
	sum := sha256.Sum256([]byte("idempotency-key:" + key))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func idempotencyHash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// findByKey is the record of token's Idempotency-Key (nil: none yet).
func findByKey(ctx context.Context, db bun.IDB, tokenID int64, key string) (*record, error) {
	r := new(record)
	err := db.NewSelect().Model(r).Where("token_id = ? AND idempotency_hash = ?", tokenID, idempotencyHash(key)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// findByBucket is the record of access id (nil: not created by the API).
func findByBucket(ctx context.Context, db bun.IDB, id int64) (*record, error) {
	r := new(record)
	err := db.NewSelect().Model(r).Where("bucket_id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// DropExpiredNumbers forgets the sealed numbers whose letter time is over
// (each create does it too; the server's housekeeping when none come).
func DropExpiredNumbers(ctx context.Context, db bun.IDB, now time.Time) error {
	_, err := db.NewUpdate().Model((*record)(nil)).Set("sealed_ref = NULL").
		Where("sealed_ref IS NOT NULL AND letter_until <= ?", now).Exec(ctx)
	return err
}

// dropNumber forgets the sealed number of access id (revoked: no letter).
func dropNumber(ctx context.Context, db bun.IDB, id int64) error {
	_, err := db.NewUpdate().Model((*record)(nil)).Set("sealed_ref = NULL").Where("bucket_id = ?", id).Exec(ctx)
	return err
}

// seal encrypts number n of access id under the server secret (AES-256-GCM
// with a key of its own); the access id is the additional data, so a sealed
// number opens only for its access.
func seal(secret []byte, id int64, n refnum.Number) (string, error) {
	gcm, err := sealAEAD(secret)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := gcm.Seal(nonce, nonce, []byte(n.Canonical()), []byte(strconv.FormatInt(id, 10)))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func open(secret []byte, id int64, sealed string) (refnum.Number, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return refnum.Number{}, err
	}
	gcm, err := sealAEAD(secret)
	if err != nil {
		return refnum.Number{}, err
	}
	if len(b) < gcm.NonceSize() {
		return refnum.Number{}, errors.New("sealed reference too short")
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], []byte(strconv.FormatInt(id, 10)))
	if err != nil {
		return refnum.Number{}, err
	}
	return refnum.Parse(string(plain))
}

func sealAEAD(secret []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(keys.Derive(secret, keys.APILetterSeal))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
