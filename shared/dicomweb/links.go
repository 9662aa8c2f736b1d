package dicomweb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/keys"
)

// LinkPrefix marks viewer link tokens (so secret scanners and the access
// log's redaction can spot them).
const LinkPrefix = "rpv_"

// MaxLiveLinks bounds the live viewer links of one access: enough for a
// few viewers and doctors, not a table a script can fill.
const MaxLiveLinks = 20

// Link is a viewer link: a capability URL that serves one access's studies
// over DICOMweb, read only. Only the keyed hash of its token is stored.
type Link struct {
	bun.BaseModel `bun:"table:viewer_links"`

	ID         int64      `bun:"id,pk,autoincrement"`
	BucketID   int64      `bun:"bucket_id"`
	TokenHash  []byte     `bun:"token_hash"`
	CreatedAt  time.Time  `bun:"created_at,nullzero,default:now()"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
}

// ErrBadLink covers unknown, revoked and expired links and links of an
// access that is no longer active alike (401, nothing said about which).
var ErrBadLink = errors.New("dicomweb: invalid viewer link")

// Links manages the viewer links of accesses.
type Links struct {
	DB      *bun.DB
	Buckets *buckets.Service
	Key     []byte // the server secret (keys.ViewerLinkHash)
}

// HashLink is the stored form of a token: a keyed hash, so a copy of the
// table opens nothing without the server secret.
func (l *Links) HashLink(token string) []byte {
	return keys.Sum(l.Key, keys.ViewerLinkHash, []byte(token))
}

// expiry is when a link of bucket b ends at the latest: the end of the
// access's last valid day, in the access's calendar zone.
func (l *Links) expiry(b *database.Bucket) time.Time {
	zone := l.Buckets.Zone
	if zone == nil {
		zone = time.Local
	}
	y, m, d := b.ValidUntil.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, zone)
}

// Create makes a viewer link for active bucket b, by the patient at ip, and
// returns its token (256 random bits), shown once and never stored. The
// audit row and the link commit together.
func (l *Links) Create(ctx context.Context, b *database.Bucket, ip string) (string, *Link, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	token := LinkPrefix + base64.RawURLEncoding.EncodeToString(raw)
	link := &Link{BucketID: b.ID, TokenHash: l.HashLink(token), ExpiresAt: l.expiry(b)}
	err := database.InTx(ctx, l.DB, func(ctx context.Context, tx bun.Tx) error {
		// The bucket row lock orders concurrent creates for the count.
		cur := new(database.Bucket)
		if err := tx.NewSelect().Model(cur).Where("id = ?", b.ID).For("UPDATE").Scan(ctx); err != nil {
			return err
		}
		if cur.State != database.BucketActive || cur.Expired(l.Buckets.Today()) {
			return buckets.ErrNotActive
		}
		n, err := tx.NewSelect().Model((*Link)(nil)).Where("bucket_id = ? AND revoked_at IS NULL AND expires_at > now()", b.ID).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxLiveLinks {
			return apperr.New(apperr.Invalid, "dicomweb.links.too_many")
		}
		if _, err := tx.NewInsert().Model(link).Exec(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Patient(&b.ID, ip).Event(audit.LinkCreate, &b.DepartmentID,
			map[string]any{"link_id": link.ID, "expires_at": link.ExpiresAt}))
	})
	if err != nil {
		return "", nil, err
	}
	return token, link, nil
}

// Revoke ends link id of bucket b at once (its next request is refused).
// A link of another bucket, or one already revoked, is buckets.ErrNotFound.
func (l *Links) Revoke(ctx context.Context, b *database.Bucket, id int64, ip string) error {
	return database.InTx(ctx, l.DB, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*Link)(nil)).Set("revoked_at = now()").
			Where("id = ? AND bucket_id = ? AND revoked_at IS NULL", id, b.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return buckets.ErrNotFound
		}
		return audit.Record(ctx, tx, audit.Patient(&b.ID, ip).Event(audit.LinkRevoke, &b.DepartmentID,
			map[string]any{"link_id": id}))
	})
}

// List returns bucket b's live links, newest first.
func (l *Links) List(ctx context.Context, b *database.Bucket) ([]Link, error) {
	var out []Link
	err := l.DB.NewSelect().Model(&out).Where("bucket_id = ? AND revoked_at IS NULL AND expires_at > now()", b.ID).
		OrderExpr("id DESC").Scan(ctx)
	return out, err
}

// Resolve finds the live link of token and its bucket, which must still be
// active (not revoked, blocked or expired): every request calls it, so
// ending the link or the access ends the link's next request.
func (l *Links) Resolve(ctx context.Context, token string) (*Link, *database.Bucket, error) {
	if !strings.HasPrefix(token, LinkPrefix) || len(token) > 100 {
		return nil, nil, ErrBadLink
	}
	link := new(Link)
	err := l.DB.NewSelect().Model(link).Where("token_hash = ? AND revoked_at IS NULL AND expires_at > now()", l.HashLink(token)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrBadLink
	}
	if err != nil {
		return nil, nil, err
	}
	b, err := l.Buckets.Session(ctx, link.BucketID)
	if errors.Is(err, buckets.ErrNotActive) || errors.Is(err, buckets.ErrNotFound) {
		return nil, nil, ErrBadLink
	}
	if err != nil {
		return nil, nil, err
	}
	if link.LastUsedAt == nil || time.Since(*link.LastUsedAt) > time.Minute {
		_, _ = l.DB.NewUpdate().Model(link).Set("last_used_at = now()").WherePK().Exec(ctx)
	}
	return link, b, nil
}

// ServedUID is the UID a viewer link of anonymized bucket b serves for the
// original uid (the one its ZIP has); other buckets serve uid itself.
func (l *Links) ServedUID(b *database.Bucket, uid string) string {
	if !b.Anonymized {
		return uid
	}
	return deid.KeyedUID(l.Buckets.AnonUIDKey(b), uid)
}
