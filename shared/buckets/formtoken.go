package buckets

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"sync"

	"github.com/radpass/radpass/shared/database"
)

// formFlights lets one submit of a form token at a time past the check for
// an earlier print of it: a repeated token (a double click, a retry, a
// nervous user pressing twenty times) waits for the first submit to finish,
// then finds its bucket, before any letter is rendered. Across server
// instances the unique index on (created_by, form_token_hash) still makes
// it one bucket.
type formFlights struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// enter waits (with ctx) until no other submit of key is in flight here,
// then marks key in flight; leave ends it.
func (f *formFlights) enter(ctx context.Context, key string) (leave func(), err error) {
	for {
		f.mu.Lock()
		ch, busy := f.m[key]
		if !busy {
			if f.m == nil {
				f.m = map[string]chan struct{}{}
			}
			ch = make(chan struct{})
			f.m[key] = ch
			f.mu.Unlock()
			return func() {
				f.mu.Lock()
				delete(f.m, key)
				f.mu.Unlock()
				close(ch)
			}, nil
		}
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// printOfForm is the bucket who printed with this form token hash already
// (nil: none yet).
func (s *Service) printOfForm(ctx context.Context, who creator, tokenHash []byte) (*database.Bucket, error) {
	b := new(database.Bucket)
	err := who.where(s.DB.NewSelect().Model(b), tokenHash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return b, err
}

// NewFormToken is the one-time token a print form carries (128 random bits);
// "" when the system has no randomness: the form still prints, without
// double-submit protection.
func NewFormToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CleanFormToken keeps a well-formed token and drops anything else.
func CleanFormToken(s string) string {
	if len(s) < 16 || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return s
}
