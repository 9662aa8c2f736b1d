package buckets

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/otp"
)

// Send limits beyond the per-bucket ones of package otp: one address may ask
// for this many codes per hour, whatever the buckets (SMS pumping).
const MaxSendsPerIPHour = 10

// SMSRegions are the country prefixes RadPass sends SMS to by default (an
// allow-list against SMS pumping); a department may narrow it.
var SMSRegions = []string{"BE", "NL", "LU", "FR", "DE", "AT", "CH", "GB", "IE", "ES", "PT", "IT", "DK", "SE", "NO", "FI", "PL"}

// ValidRegion reports a region RadPass sends SMS to.
func ValidRegion(r string) bool {
	for _, x := range SMSRegions {
		if x == r {
			return true
		}
	}
	return false
}

// Code is a freshly issued one-time password, to send to Destination (the
// one on file, never one from the request) through Channel.
type Code struct {
	Plain       string
	Channel     string // "sms" or "email"
	Destination string
	Language    string
	SendID      int64
	Sender      string // the department's SMS sender id ("" = the configured one)
	Department  string // named in the message
	DeptID      int64
}

// SMSAllowed is the rule against SMS pumping: a mobile number whose country
// calling code the department allows (and RadPass sends to at all).
func SMSAllowed(d *database.Department, e164 string) bool {
	if !notify.SMSAllowed(e164, SMSRegions) {
		return false
	}
	if d == nil || len(d.SMSPrefixes) == 0 {
		return true
	}
	prefixes := make([]string, len(d.SMSPrefixes))
	for i, p := range d.SMSPrefixes {
		prefixes[i] = "+" + p
	}
	return notify.SMSAllowed(e164, prefixes)
}

// IssueOTP makes a new code for bucket id (which must be active, and an SMS
// or e-mail bucket), replacing the previous one, within the send limits: 60 s
// between codes, 5 codes per bucket per 24 h, MaxSendsPerIPHour per address,
// and otp.MaxFailedSendsPerDay failed attempts per bucket per 24 h.
// The failure counter is left as it is. The caller sends the code and then
// reports the outcome with SendDone.
func (s *Service) IssueOTP(ctx context.Context, id int64, ip string) (*Code, error) {
	var code *Code
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		b := new(database.Bucket)
		err := tx.NewSelect().Model(b).Relation("Department").Where("bucket.id = ?", id).For("UPDATE OF bucket").Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if b.State != database.BucketActive || b.Expired(s.Today()) {
			return ErrNotActive
		}
		if b.Verification != database.VerifySMS && b.Verification != database.VerifyEmail {
			return ErrNoOTP
		}
		if b.Verification == database.VerifySMS && !SMSAllowed(b.Department, b.Destination) {
			return ErrCountry
		}
		now := s.now()
		var last struct {
			Latest *time.Time `bun:"latest"`
			Day    int        `bun:"day"`
			Failed int        `bun:"failed"`
		}
		// Failed sends count for neither the cooldown nor the daily limit:
		// the patient may try again. They have a cap of their own, as a
		// failed send may still have been delivered.
		if err := tx.NewRaw(`SELECT max(at) FILTER (WHERE outcome <> 'failed') AS latest,
			count(*) FILTER (WHERE outcome <> 'failed') AS day, count(*) FILTER (WHERE outcome = 'failed') AS failed
			FROM otp_sends WHERE bucket_id = ? AND at > ?`,
			b.ID, now.Add(-24*time.Hour)).Scan(ctx, &last); err != nil {
			return err
		}
		if last.Latest != nil && now.Sub(*last.Latest) < otp.CooldownResend {
			return ErrCooldown
		}
		if last.Day >= otp.MaxSendsPerDay || last.Failed >= otp.MaxFailedSendsPerDay {
			return ErrSendLimit
		}
		// Serialise sends per address across buckets for the per-address count.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('otp-ip:' || ?))`, ip); err != nil {
			return err
		}
		var perIP int
		if err := tx.NewRaw(`SELECT count(*) FROM otp_sends WHERE ip = ? AND at > ? AND outcome <> 'failed'`, ip, now.Add(-time.Hour)).Scan(ctx, &perIP); err != nil {
			return err
		}
		if perIP >= MaxSendsPerIPHour {
			return ErrIPLimit
		}
		plain, err := otp.Generate()
		if err != nil {
			return err
		}
		exp := now.Add(otp.TTL)
		b.OTPHash, b.OTPExpiresAt = otp.Hash(s.Key, b.ID, plain), &exp
		if _, err := tx.NewUpdate().Model(b).Column("otp_hash", "otp_expires_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		var sendID int64
		if err := tx.NewRaw(`INSERT INTO otp_sends (bucket_id, at, ip, channel) VALUES (?, ?, ?, ?) RETURNING id`,
			b.ID, now, ip, b.Verification).Scan(ctx, &sendID); err != nil {
			return err
		}
		code = &Code{Plain: plain, Channel: b.Verification, Destination: b.Destination, Language: b.Language, SendID: sendID,
			Sender: b.Department.SMSSender, Department: b.Department.Name, DeptID: b.DepartmentID}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return code, nil
}

// SendDone records whether the message with the code went out. A failed send
// leaves no usable code behind and counts for no limit.
func (s *Service) SendDone(ctx context.Context, c *Code, bucketID int64, ip string, sendErr error) error {
	outcome := "sent"
	if sendErr != nil {
		outcome = "failed"
	}
	return database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`UPDATE otp_sends SET outcome = ? WHERE id = ?`, outcome, c.SendID).Exec(ctx); err != nil {
			return err
		}
		if sendErr != nil {
			// Only this code's hash is cleared: a newer code stays valid.
			if _, err := tx.NewRaw(`UPDATE buckets SET otp_hash = NULL, otp_expires_at = NULL WHERE id = ? AND otp_hash = ?`,
				bucketID, otp.Hash(s.Key, bucketID, c.Plain)).Exec(ctx); err != nil {
				return err
			}
		}
		b := &database.Bucket{ID: bucketID, DepartmentID: c.DeptID}
		return s.record(ctx, tx, b, audit.PatientOTPSend, outcome, ip, map[string]any{"channel": c.Channel})
	})
}

// CheckOTP compares a typed code with bucket id's current one, under the row
// lock: a right code (not expired) signs in, resets the counter and is used
// up; a wrong or expired one counts a failure and blocks at MaxFailures. A
// blocked bucket compares nothing: even the right code is refused.
func (s *Service) CheckOTP(ctx context.Context, id int64, typed, ip string) (*Attempt, error) {
	return s.CheckOTPThen(ctx, id, typed, ip, nil)
}

// CheckOTPThen is CheckOTP with then run in the same transaction once the
// outcome is known (then may be nil; tx only, never the pool): the session a
// right code opens commits with its "signin ok" row, or neither does.
func (s *Service) CheckOTPThen(ctx context.Context, id int64, typed, ip string, then func(ctx context.Context, tx bun.Tx, a *Attempt) error) (*Attempt, error) {
	a := &Attempt{Outcome: Refused}
	err := database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := s.checkOTP(ctx, tx, id, typed, ip, a); err != nil || then == nil {
			return err
		}
		return then(ctx, tx, a)
	})
	if err != nil {
		s.Metrics.OTPCheck("error", false)
		return nil, err
	}
	s.Metrics.OTPCheck(a.Outcome.String(), a.JustBlocked)
	return a, nil
}

func (s *Service) checkOTP(ctx context.Context, tx bun.Tx, id int64, typed, ip string, a *Attempt) error {
	b := new(database.Bucket)
	err := tx.NewSelect().Model(b).Relation("Patient").Relation("Department").
		Where("bucket.id = ?", id).For("UPDATE OF bucket").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	switch {
	case b.State == database.BucketBlocked:
		a.Outcome, a.Bucket = Blocked, b
		return s.record(ctx, tx, b, audit.PatientOTPFail, "blocked", ip, nil)
	case b.State == database.BucketRevoked:
		a.Outcome, a.Bucket = Revoked, b
		return s.record(ctx, tx, b, audit.PatientOTPFail, "revoked", ip, nil)
	case b.Expired(s.Today()):
		a.Outcome, a.Bucket = Expired, b
		return s.record(ctx, tx, b, audit.PatientOTPFail, "expired", ip, nil)
	}
	code, wellFormed := otp.Normalize(typed)
	// Valid through its expiry instant (10 min 0 s after issue), not after.
	ok := wellFormed && b.OTPHash != nil && b.OTPExpiresAt != nil && !s.now().After(*b.OTPExpiresAt) &&
		otp.Equal(b.OTPHash, otp.Hash(s.Key, b.ID, code))
	if !ok {
		blocked, err := s.fail(ctx, tx, b)
		if err != nil {
			return err
		}
		a.JustBlocked, a.Bucket = blocked, b
		if blocked {
			a.Outcome, a.Bucket = Blocked, b
		}
		return s.record(ctx, tx, b, audit.PatientOTPFail, "wrong_code", ip, map[string]any{"failures": b.Failures})
	}
	b.OTPHash, b.OTPExpiresAt = nil, nil // single use
	if _, err := tx.NewUpdate().Model(b).Column("otp_hash", "otp_expires_at").WherePK().Exec(ctx); err != nil {
		return err
	}
	if err := s.succeed(ctx, tx, b); err != nil {
		return err
	}
	a.Outcome, a.Bucket = Open, b
	return s.record(ctx, tx, b, audit.PatientSignIn, "ok", ip, map[string]any{"factor": "otp"})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
