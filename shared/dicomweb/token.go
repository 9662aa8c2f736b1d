// Package dicomweb is the machine side of intake: DICOMweb STOW-RS (PS3.18)
// and the report upload API, authenticated by per-department API tokens.
package dicomweb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// TokenPrefix marks RadPass API tokens (so secret scanners can spot them).
const TokenPrefix = "rpt_"

// APIToken is a stored token: only the SHA-256 of the secret is kept.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID           int64      `bun:"id,pk,autoincrement"`
	DepartmentID int64      `bun:"department_id"`
	Name         string     `bun:"name"`
	TokenHash    []byte     `bun:"token_hash"`
	CreatedAt    time.Time  `bun:"created_at,nullzero,default:now()"`
	LastUsedAt   *time.Time `bun:"last_used_at"`
	RevokedAt    *time.Time `bun:"revoked_at"`
}

// ErrBadToken covers missing, unknown and revoked tokens alike.
var ErrBadToken = errors.New("invalid API token")

// HashToken is the stored form. A token carries 256 random bits, so a plain
// SHA-256 cannot be brute-forced and needs no key that could be lost.
func HashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// CreateToken makes a token for a department and returns the secret, which
// is shown once and never stored.
func CreateToken(ctx context.Context, db bun.IDB, deptID int64, name string) (string, *APIToken, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &APIToken{DepartmentID: deptID, Name: name, TokenHash: HashToken(plain)}
	if _, err := db.NewInsert().Model(t).Exec(ctx); err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// Authenticate finds the live token of an "Authorization: Bearer …" value.
func Authenticate(ctx context.Context, db bun.IDB, header string) (*APIToken, error) {
	scheme, plain, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, ErrBadToken
	}
	plain = strings.TrimSpace(plain)
	if !strings.HasPrefix(plain, TokenPrefix) || len(plain) > 200 {
		return nil, ErrBadToken
	}
	t := new(APIToken)
	err := db.NewSelect().Model(t).Where("token_hash = ? AND revoked_at IS NULL", HashToken(plain)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	_, _ = db.NewUpdate().Model(t).Set("last_used_at = now()").WherePK().Exec(ctx)
	return t, nil
}

// RevokeToken stops a token from working.
func RevokeToken(ctx context.Context, db bun.IDB, id int64) error {
	r, err := db.NewUpdate().Model((*APIToken)(nil)).Set("revoked_at = now()").Where("id = ? AND revoked_at IS NULL", id).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return ErrBadToken
	}
	return nil
}
