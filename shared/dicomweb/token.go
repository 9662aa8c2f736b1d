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
	"fmt"
	"slices"
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
	Scopes       []string   `bun:"scopes,array"` // what the token may do: ScopeStow, ScopeReport, ScopeAccess
	CreatedAt    time.Time  `bun:"created_at,nullzero,default:now()"`
	LastUsedAt   *time.Time `bun:"last_used_at"`
	RevokedAt    *time.Time `bun:"revoked_at"`
}

// Token scopes: what a token may call.
const (
	ScopeStow   = "stow"   // STOW-RS
	ScopeReport = "report" // the report upload API
	ScopeAccess = "access" // the access API (/api/v1/accesses)
)

// AllScopes are a token's scopes when none are named.
var AllScopes = []string{ScopeStow, ScopeReport, ScopeAccess}

// ParseScopes reads a comma-separated scope list ("" is all of them).
func ParseScopes(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(AllScopes), nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(AllScopes, p) {
			return nil, fmt.Errorf("unknown scope %q (known: %s)", p, strings.Join(AllScopes, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Has reports whether the token may call what scope covers.
func (t *APIToken) Has(scope string) bool { return slices.Contains(t.Scopes, scope) }

// ErrBadToken covers missing, unknown and revoked tokens alike.
var ErrBadToken = errors.New("invalid API token")

// HashToken is the stored form. A token carries 256 random bits, so a plain
// SHA-256 cannot be brute-forced and needs no key that could be lost.
func HashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// CreateToken makes a token with every scope for a department and returns
// the secret, which is shown once and never stored.
func CreateToken(ctx context.Context, db bun.IDB, deptID int64, name string) (string, *APIToken, error) {
	return CreateScopedToken(ctx, db, deptID, name, nil)
}

// CreateScopedToken is CreateToken for the given scopes (none: all).
func CreateScopedToken(ctx context.Context, db bun.IDB, deptID int64, name string, scopes []string) (string, *APIToken, error) {
	if len(scopes) == 0 {
		scopes = slices.Clone(AllScopes)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &APIToken{DepartmentID: deptID, Name: name, TokenHash: HashToken(plain), Scopes: scopes}
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
