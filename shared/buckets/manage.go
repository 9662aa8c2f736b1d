package buckets

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
)

// Who may manage buckets (Status Forwarding): the service desk for every
// department, a department admin for their own. Plain staff may look only.
func CanManage(u *database.User, b *database.Bucket) bool {
	return u != nil && (u.IsServiceDesk() || (u.IsAdmin() && u.CanSeeDepartment(b.DepartmentID)))
}

// Session re-checks, on every patient request, that bucket id still opens:
// active and within its validity date. A revoked, blocked or expired bucket
// ends the patient's session at its next request.
func (s *Service) Session(ctx context.Context, id int64) (*database.Bucket, error) {
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.State != database.BucketActive || b.Expired(s.Today()) {
		return nil, ErrNotActive
	}
	return b, nil
}

// change runs one management action on bucket id in a transaction with its
// audit event: load under lock, check permission and state, apply.
func (s *Service) change(ctx context.Context, who manager, id int64, ip, action, reason string, details map[string]any,
	apply func(ctx context.Context, tx bun.Tx, b *database.Bucket) error) (*database.Bucket, error) {
	if len([]rune(reason)) < 3 || len([]rune(reason)) > 500 {
		return nil, apperr.New(apperr.Invalid, "buckets.error.reason")
	}
	var out *database.Bucket
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		b := new(database.Bucket)
		err := tx.NewSelect().Model(b).Where("id = ?", id).For("UPDATE").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !who.sees(b)) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !who.mayManage(b) {
			return apperr.New(apperr.Forbidden, "error.forbidden")
		}
		if err := apply(ctx, tx, b); err != nil {
			return err
		}
		if details == nil {
			details = map[string]any{}
		}
		details["reason"] = reason
		out = b
		e := who.actor(ip).Event(action, &b.DepartmentID, details)
		e.BucketID = &b.ID
		return audit.Record(ctx, tx, e)
	})
	return out, err
}

// Unlock reopens a blocked bucket and resets its counter.
func (s *Service) Unlock(ctx context.Context, u *database.User, id int64, ip, reason string) (*database.Bucket, error) {
	b, err := s.change(ctx, staffManager{u}, id, ip, audit.BucketUnlock, reason, nil, func(ctx context.Context, tx bun.Tx, b *database.Bucket) error {
		if b.State != database.BucketBlocked {
			return ErrState
		}
		b.State, b.Failures, b.BlockedAt, b.BlockedProbes = database.BucketActive, 0, nil, 0
		b.OTPHash, b.OTPExpiresAt = nil, nil
		_, err := tx.NewUpdate().Model(b).Column("state", "failures", "blocked_at", "blocked_probes", "otp_hash", "otp_expires_at").WherePK().Exec(ctx)
		return err
	})
	if err == nil {
		s.Metrics.Unlock()
	}
	return b, err
}

// Revoke withdraws a bucket for good; a live patient session ends at its next request.
func (s *Service) Revoke(ctx context.Context, u *database.User, id int64, ip, reason string) (*database.Bucket, error) {
	return s.revoke(ctx, staffManager{u}, id, ip, reason)
}

func (s *Service) revoke(ctx context.Context, who manager, id int64, ip, reason string) (*database.Bucket, error) {
	return s.change(ctx, who, id, ip, audit.BucketRevoke, reason, nil, func(ctx context.Context, tx bun.Tx, b *database.Bucket) error {
		if b.State == database.BucketRevoked {
			return ErrState
		}
		b.State, b.OTPHash, b.OTPExpiresAt = database.BucketRevoked, nil, nil
		_, err := tx.NewUpdate().Model(b).Column("state", "otp_hash", "otp_expires_at").WherePK().Exec(ctx)
		return err
	})
}

// Extend moves the validity date, never past the department maximum.
func (s *Service) Extend(ctx context.Context, u *database.User, id int64, ip, reason string, until time.Time) (*database.Bucket, error) {
	return s.extend(ctx, staffManager{u}, id, ip, reason, until)
}

func (s *Service) extend(ctx context.Context, who manager, id int64, ip, reason string, until time.Time) (*database.Bucket, error) {
	return s.change(ctx, who, id, ip, audit.BucketExtend, reason, map[string]any{"valid_until": until.Format("2006-01-02")},
		func(ctx context.Context, tx bun.Tx, b *database.Bucket) error {
			if b.State == database.BucketRevoked {
				return ErrState
			}
			dept := new(database.Department)
			if err := tx.NewSelect().Model(dept).Where("id = ?", b.DepartmentID).Scan(ctx); err != nil {
				return err
			}
			if !ValidDate(s.Today(), until, dept) {
				return ErrValidity
			}
			b.ValidUntil = until
			if b.State == database.BucketActive {
				b.BlockedProbes = 0 // an expired bucket extended opens again, truthfully
			}
			_, err := tx.NewUpdate().Model(b).Column("valid_until", "blocked_probes").WherePK().Exec(ctx)
			return err
		})
}

// RemoveStudy takes one study out of a bucket (never the last one: revoke instead).
func (s *Service) RemoveStudy(ctx context.Context, u *database.User, id, studyID int64, ip, reason string) (*database.Bucket, error) {
	return s.change(ctx, staffManager{u}, id, ip, audit.BucketRemoveStudy, reason, map[string]any{"study_id": studyID},
		func(ctx context.Context, tx bun.Tx, b *database.Bucket) error {
			var n int
			if err := tx.NewRaw(`SELECT count(*) FROM bucket_studies WHERE bucket_id = ?`, b.ID).Scan(ctx, &n); err != nil {
				return err
			}
			res, err := tx.NewRaw(`DELETE FROM bucket_studies WHERE bucket_id = ? AND study_id = ?`, b.ID, studyID).Exec(ctx)
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				return ErrNotFound
			}
			if n <= 1 {
				return ErrState
			}
			return nil
		})
}
