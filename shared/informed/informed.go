// Package informed keeps a patient informed about their access: the
// activity list ("who opened my images"), the alert when the access is
// signed in to from a new device, and the message when a result is ready
// (a final report readable by the patient, or the first images of a study).
// Messages go out from the job queue (shared/jobs), so several instances
// send each one once. docs/notifications.md describes the rules.
package informed

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/jobs"
	"github.com/radpass/radpass/shared/notify"
)

// Sender sends the messages (shared/notify's Notifier).
type Sender interface {
	SendSMS(ctx context.Context, to, text string) error
	SendEmail(ctx context.Context, m notify.EmailMessage) error
}

// Service is the domain of this package on one database.
type Service struct {
	DB        *bun.DB
	Send      Sender
	Zone      *time.Location   // RADPASS_TIMEZONE: times shown to the patient, "today"
	Now       func() time.Time // nil: time.Now
	SignInURL string           // the patient's start page, named in the messages ("" leaves it out)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) zone() *time.Location {
	if s.Zone != nil {
		return s.Zone
	}
	return time.Local
}

// Job kinds.
const (
	KindStudy  = "ready.study"  // a study's images or report: fans out to its accesses
	KindNotice = "ready.notice" // one access, one event: the message
	KindDevice = "device.alert" // one access, one new device: the alert
)

// Queue is the job queue with this package's handlers.
func (s *Service) Queue() *jobs.Queue {
	return &jobs.Queue{DB: s.DB, Now: s.Now, Handlers: map[string]jobs.Handler{
		KindStudy:  s.runStudy,
		KindNotice: s.runNotice,
		KindDevice: s.runDevice,
	}}
}

// Settings are one access's choices.
type Settings struct {
	bun.BaseModel  `bun:"table:bucket_notices"`
	BucketID       int64  `bun:"bucket_id,pk"`
	ReadyNotice    bool   `bun:"ready_notice"`
	DeviceAlert    bool   `bun:"device_alert"`
	ContactChannel string `bun:"contact_channel"` // dob buckets: sms or email, else ""
	Contact        string `bun:"contact"`
}

// BucketSettings reads an access's choices (zero Settings when none were made).
func BucketSettings(ctx context.Context, db bun.IDB, bucketID int64) (*Settings, error) {
	st := &Settings{BucketID: bucketID}
	err := db.NewSelect().Model(st).WherePK().Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	return st, err
}

// SaveSettings stores an access's choices through db (the print's
// transaction) and, for a message when a result is ready, queues the
// studies whose final report is still under embargo (the trigger queues
// only changes after this point).
func SaveSettings(ctx context.Context, db bun.IDB, st *Settings) error {
	if _, err := db.NewInsert().Model(st).On("CONFLICT (bucket_id) DO UPDATE").
		Set("ready_notice = EXCLUDED.ready_notice, device_alert = EXCLUDED.device_alert").
		Set("contact_channel = EXCLUDED.contact_channel, contact = EXCLUDED.contact").Exec(ctx); err != nil {
		return err
	}
	if !st.ReadyNotice {
		return nil
	}
	_, err := db.NewRaw(`INSERT INTO jobs (kind, key, payload, run_at)
		SELECT ?, 'report:' || s.id, jsonb_build_object('study_id', s.id, 'event', 'report'), s.report_available_at
		FROM bucket_studies bs JOIN studies s ON s.id = bs.study_id
		WHERE bs.bucket_id = ? AND s.report_status = 'final' AND s.report_available_at > now()
		ON CONFLICT (key) DO UPDATE SET run_at = EXCLUDED.run_at, done_at = NULL, attempts = 0, last_error = ''`,
		KindStudy, st.BucketID).Exec(ctx)
	return err
}

// SetDeviceAlert is the patient's own choice of the new-device alert,
// stored with its audit row.
func (s *Service) SetDeviceAlert(ctx context.Context, bucketID int64, on bool, ip string) error {
	return database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		var dept int64
		if err := tx.NewRaw(`SELECT department_id FROM buckets WHERE id = ?`, bucketID).Scan(ctx, &dept); err != nil {
			return err
		}
		if _, err := tx.NewRaw(`INSERT INTO bucket_notices (bucket_id, device_alert) VALUES (?, ?)
			ON CONFLICT (bucket_id) DO UPDATE SET device_alert = EXCLUDED.device_alert`, bucketID, on).Exec(ctx); err != nil {
			return err
		}
		return audit.Patient(&bucketID, ip).Record(ctx, tx, ActionAlertSet, &dept, map[string]any{"on": on})
	})
}

// Prefs are a staff user's sticky print choices.
type Prefs struct {
	bun.BaseModel `bun:"table:notice_prefs"`
	UserID        int64 `bun:"user_id,pk"`
	ReadyNotice   bool  `bun:"ready_notice"`
	DeviceAlert   bool  `bun:"device_alert"`
}

// UserPrefs reads a user's sticky choices; nil when they never printed.
func UserPrefs(ctx context.Context, db bun.IDB, userID int64) (*Prefs, error) {
	p := &Prefs{UserID: userID}
	err := db.NewSelect().Model(p).WherePK().Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, err
}

// SavePrefs keeps a user's choices for their next print.
func SavePrefs(ctx context.Context, db bun.IDB, p *Prefs) error {
	_, err := db.NewInsert().Model(p).On("CONFLICT (user_id) DO UPDATE").
		Set("ready_notice = EXCLUDED.ready_notice, device_alert = EXCLUDED.device_alert").Exec(ctx)
	return err
}

// ReadyDefault is the department's default for "Tell the patient when the
// report is available" (off unless the department set it).
func ReadyDefault(ctx context.Context, db bun.IDB, deptID int64) (bool, error) {
	var on bool
	err := db.NewRaw(`SELECT ready_notice_default FROM department_notice_settings WHERE department_id = ?`, deptID).Scan(ctx, &on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return on, err
}

// SetReadyDefault stores the department's default.
func SetReadyDefault(ctx context.Context, db bun.IDB, deptID int64, on bool) error {
	_, err := db.NewRaw(`INSERT INTO department_notice_settings (department_id, ready_notice_default) VALUES (?, ?)
		ON CONFLICT (department_id) DO UPDATE SET ready_notice_default = EXCLUDED.ready_notice_default`, deptID, on).Exec(ctx)
	return err
}

// MonthCount is how many "result ready" messages a department sent this
// calendar month (in the server's zone), by channel.
type MonthCount struct{ SMS, Email int }

// SentThisMonth counts the department's "result ready" messages this month.
func (s *Service) SentThisMonth(ctx context.Context, deptID int64) (MonthCount, error) {
	now := s.now().In(s.zone())
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, s.zone())
	var rows []struct {
		Channel string `bun:"channel"`
		N       int    `bun:"n"`
	}
	var out MonthCount
	err := s.DB.NewRaw(`SELECT channel, count(*) AS n FROM notices_sent
		WHERE department_id = ? AND sent_at >= ? AND kind IN ('report', 'images') GROUP BY channel`, deptID, start).Scan(ctx, &rows)
	for _, r := range rows {
		switch r.Channel {
		case "sms":
			out.SMS = r.N
		case "email":
			out.Email = r.N
		}
	}
	return out, err
}

// Contact is where an access's messages go: its own verification
// destination, or for a date-of-birth-only access the contact staff entered
// (channel "" when there is none).
func Contact(b *database.Bucket, st *Settings) (channel, to string) {
	switch b.Verification {
	case database.VerifySMS, database.VerifyEmail:
		return b.Verification, b.Destination
	}
	if st != nil && st.Contact != "" && (st.ContactChannel == "sms" || st.ContactChannel == "email") {
		return st.ContactChannel, st.Contact
	}
	return "", ""
}

// open reports whether b still opens on the day of now (active, not expired).
func (s *Service) open(b *database.Bucket, now time.Time) bool {
	return b.EffectiveState(buckets.Today(now, s.zone())) == database.BucketActive
}
