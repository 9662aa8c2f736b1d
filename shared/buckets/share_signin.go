package buckets

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/otp"
)

// A share opens only while it and its access are open: the share active
// and within its last day, the bucket active and within its validity.
// Anything else (unknown token, revoked, blocked, expired, the access
// ended) is ErrNotFound, the one answer for every failure.
func (s *Service) shareOpens(sh *Share, b *database.Bucket) bool {
	today := s.Today()
	return sh.State == database.BucketActive && !sh.Expired(today) &&
		b.State == database.BucketActive && !b.Expired(today)
}

// loadShare reads share id with its bucket (and the bucket's department),
// under the share's row lock when lock is set.
func (s *Service) loadShare(ctx context.Context, db bun.IDB, id int64, lock bool) (*Share, *database.Bucket, error) {
	sh := new(Share)
	q := db.NewSelect().Model(sh).Where("id = ?", id)
	if lock {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	b := new(database.Bucket)
	err = db.NewSelect().Model(b).Relation("Patient").Relation("Department").Where("bucket.id = ?", sh.BucketID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return sh, b, nil
}

// OpenShare finds the share of a link's token; ErrNotFound unless it opens.
// Only the token's keyed hash is looked up.
func (s *Service) OpenShare(ctx context.Context, token string) (*Share, *database.Bucket, error) {
	if len(token) < 16 || len(token) > 64 {
		return nil, nil, ErrNotFound
	}
	var id int64
	err := s.DB.NewRaw(`SELECT id FROM shares WHERE token_hash = ?`, ShareTokenHash(s.Key, token)).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return s.ShareOpen(ctx, id)
}

// ShareOpen re-checks share id on every request of a doctor's session:
// the share and its bucket, ErrNotFound unless both still open.
func (s *Service) ShareOpen(ctx context.Context, id int64) (*Share, *database.Bucket, error) {
	sh, b, err := s.loadShare(ctx, s.DB, id, false)
	if err != nil {
		return nil, nil, err
	}
	if !s.shareOpens(sh, b) {
		return nil, nil, ErrNotFound
	}
	return sh, b, nil
}

// ShareScopeOf is what share sh shows: its studies still in its bucket.
func (s *Service) ShareScopeOf(ctx context.Context, sh *Share) (*ShareScope, error) {
	var ids []int64
	if err := s.DB.NewRaw(`SELECT ss.study_id FROM share_studies ss
		JOIN bucket_studies bs ON bs.study_id = ss.study_id AND bs.bucket_id = ?
		WHERE ss.share_id = ?`, sh.BucketID, sh.ID).Scan(ctx, &ids); err != nil {
		return nil, err
	}
	scope := &ShareScope{ID: sh.ID, Studies: make(map[int64]bool, len(ids)), Report: sh.Report, Until: sh.ValidUntil}
	for _, id := range ids {
		scope.Studies[id] = true
	}
	return scope, nil
}

// SendShareCode issues a code for share id and sends it to the doctor's
// address or number on file: 60 s between codes of a share, every message
// counts for the access's MaxShareSendsPerDay, and every code for its
// address's MaxShareCodesPerAddressDay across all shares and accesses
// (ErrShareAddressLimit). A share that does not open is ErrNotFound. The
// code is stored only as its keyed hash, the address in the per-address
// count only as ShareAddressHash.
func (s *Service) SendShareCode(ctx context.Context, n ShareSender, id int64, ip string) error {
	var (
		sh     *Share
		b      *database.Bucket
		plain  string
		sendID int64
		addrID int64
	)
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if sh, b, err = s.loadShare(ctx, tx, id, true); err != nil {
			return err
		}
		if !s.shareOpens(sh, b) {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('share-sends:' || ?))`, b.ID); err != nil {
			return err
		}
		now := s.now()
		var last struct {
			Latest *time.Time `bun:"latest"`
			Day    int        `bun:"day"`
		}
		if err := tx.NewRaw(`SELECT max(at) FILTER (WHERE share_id = ? AND kind = 'code' AND outcome <> 'failed') AS latest,
			count(*) AS day FROM share_sends WHERE bucket_id = ? AND at > ?`, sh.ID, b.ID, now.Add(-24*time.Hour)).Scan(ctx, &last); err != nil {
			return err
		}
		if last.Latest != nil && now.Sub(*last.Latest) < otp.CooldownResend {
			return ErrCooldown
		}
		if last.Day >= MaxShareSendsPerDay {
			return ErrShareSendLimit
		}
		// Codes to one address are counted under the address's own lock,
		// taken after the access's (always in this order: no deadlock), so
		// parallel requests through many shares cannot pass the cap.
		addr := ShareAddressHash(s.Key, sh.Channel, sh.Destination)
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('share-addr:' || encode(?::bytea, 'hex')))`, addr); err != nil {
			return err
		}
		since := now.Add(-24 * time.Hour)
		if _, err := tx.NewRaw(`DELETE FROM share_address_sends WHERE addr_hash = ? AND at <= ?`, addr, since).Exec(ctx); err != nil {
			return err
		}
		var toAddr int
		if err := tx.NewRaw(`SELECT count(*) FROM share_address_sends WHERE addr_hash = ? AND at > ? AND outcome <> 'failed'`,
			addr, since).Scan(ctx, &toAddr); err != nil {
			return err
		}
		if toAddr >= MaxShareCodesPerAddressDay {
			return ErrShareAddressLimit
		}
		if err := tx.NewRaw(`INSERT INTO share_address_sends (addr_hash, at) VALUES (?, ?) RETURNING id`, addr, now).Scan(ctx, &addrID); err != nil {
			return err
		}
		if plain, err = otp.Generate(); err != nil {
			return err
		}
		exp := now.Add(otp.TTL)
		if _, err := tx.NewRaw(`UPDATE shares SET code_hash = ?, code_expires_at = ? WHERE id = ?`,
			shareCodeHash(s.Key, sh.ID, plain), exp, sh.ID).Exec(ctx); err != nil {
			return err
		}
		return tx.NewRaw(`INSERT INTO share_sends (share_id, bucket_id, kind, at) VALUES (?, ?, 'code', ?) RETURNING id`,
			sh.ID, b.ID, now).Scan(ctx, &sendID)
	})
	if err != nil {
		return err
	}
	sms, mail := notify.ShareCodeMessages(sh.Language, b.Department.Name, plain)
	sendErr := sendShareMessage(notify.WithSender(ctx, b.Department.SMSSender), n, sh, sms, mail)
	outcome := "sent"
	if sendErr != nil {
		outcome = "failed"
	}
	recErr := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`UPDATE share_sends SET outcome = ? WHERE id = ?`, outcome, sendID).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`UPDATE share_address_sends SET outcome = ? WHERE id = ?`, outcome, addrID).Exec(ctx); err != nil {
			return err
		}
		if sendErr != nil { // only this code: a newer one stays valid
			if _, err := tx.NewRaw(`UPDATE shares SET code_hash = NULL, code_expires_at = NULL WHERE id = ? AND code_hash = ?`,
				sh.ID, shareCodeHash(s.Key, sh.ID, plain)).Exec(ctx); err != nil {
				return err
			}
		}
		e := audit.Share(b.ID, sh.ID, ip).Event(audit.ShareSend, &b.DepartmentID, map[string]any{"share_id": sh.ID, "channel": sh.Channel, "kind": "code"})
		e.Outcome = outcome
		return audit.Record(ctx, tx, e)
	})
	if sendErr != nil || recErr != nil {
		return &SendError{Channel: sh.Channel, Send: sendErr, Record: recErr}
	}
	return nil
}

// ShareAttempt is the result of a doctor's code.
type ShareAttempt struct {
	Open        bool // the right code: the doctor is signed in
	Share       *Share
	Bucket      *database.Bucket
	Left        int  // wrong codes left before the share blocks
	JustBlocked bool // this code blocked the share
}

// CheckShareCode compares a doctor's typed code under the share's row
// lock: right (not expired) opens the share and uses the code up; wrong
// counts a failure on the share alone (never on the patient's access) and
// the MaxFailures-th blocks the share. A share that does not open compares
// nothing and answers ErrNotFound. then (may be nil) runs in the same
// transaction once the outcome is known: the doctor's session commits with
// the "share.open" row, or neither does.
func (s *Service) CheckShareCode(ctx context.Context, id int64, typed, ip string,
	then func(ctx context.Context, tx bun.Tx, a *ShareAttempt) error) (*ShareAttempt, error) {
	a := &ShareAttempt{}
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		sh, b, err := s.loadShare(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !s.shareOpens(sh, b) {
			return ErrNotFound
		}
		a.Share, a.Bucket = sh, b
		actor := audit.Share(b.ID, sh.ID, ip)
		now := s.now()
		if !s.shareCodeOK(sh, typed) {
			sh.Failures++
			a.Left = MaxFailures - sh.Failures
			if sh.Failures < MaxFailures {
				if _, err := tx.NewRaw(`UPDATE shares SET failures = ? WHERE id = ?`, sh.Failures, sh.ID).Exec(ctx); err != nil {
					return err
				}
			} else {
				sh.State, a.JustBlocked, a.Left = database.BucketBlocked, true, 0
				if _, err := tx.NewRaw(`UPDATE shares SET failures = ?, state = 'blocked', ended_at = ?, ended_by = 'failures',
					code_hash = NULL, code_expires_at = NULL WHERE id = ?`, sh.Failures, now, sh.ID).Exec(ctx); err != nil {
					return err
				}
				blk := audit.System().Event(audit.ShareBlock, &b.DepartmentID, map[string]any{"share_id": sh.ID, "failures": sh.Failures})
				blk.BucketID = &b.ID
				if err := audit.Record(ctx, tx, blk); err != nil {
					return err
				}
			}
			e := actor.Event(audit.ShareCodeFail, &b.DepartmentID, map[string]any{"share_id": sh.ID, "failures": sh.Failures})
			e.Outcome = "wrong_code"
			if err := audit.Record(ctx, tx, e); err != nil {
				return err
			}
			return nil
		}
		a.Open = true
		if _, err := tx.NewRaw(`UPDATE shares SET failures = 0, code_hash = NULL, code_expires_at = NULL,
			first_opened_at = coalesce(first_opened_at, ?), last_opened_at = ? WHERE id = ?`, now, now, sh.ID).Exec(ctx); err != nil {
			return err
		}
		if err := actor.Record(ctx, tx, audit.ShareOpen, &b.DepartmentID, map[string]any{"share_id": sh.ID}); err != nil {
			return err
		}
		if then != nil {
			return then(ctx, tx, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}
