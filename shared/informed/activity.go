package informed

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/letter"
)

// FormatTime writes a moment the way lang writes dates, with the hour:
// "7 December 2026, 14:05".
func FormatTime(lang string, t time.Time) string {
	return i18n.T(lang, "informed.datetime", "Date", letter.FormatDate(lang, t), "Time", t.Format("15:04"))
}

// SignInQueries are the writes a patient's successful sign-in adds to its
// own transaction, right after its audit row: the device of that row, the
// device in the access's list, and, when the device is new to the access
// and the alert is on, the alert's job (one per access, device and day: the
// job key). They are built on db and sent in the sign-in's batch.
func SignInQueries(db bun.IDB, bucketID int64, d Device, now time.Time, zone *time.Location) []*bun.RawQuery {
	dev := d.String()
	if zone == nil {
		zone = time.Local
	}
	day := now.In(zone).Format("2006-01-02")
	key := "device:" + strconv.FormatInt(bucketID, 10) + ":" + dev + ":" + day
	payload := `{"bucket_id":` + strconv.FormatInt(bucketID, 10) + `,"device":"` + dev + `","at":"` + now.UTC().Format(time.RFC3339Nano) + `"}`
	return []*bun.RawQuery{
		SignInDeviceQuery(db, bucketID, d),
		db.NewRaw(`WITH seen AS (
				INSERT INTO access_devices (bucket_id, device, first_seen, last_seen) VALUES (?, ?, ?, ?)
				ON CONFLICT (bucket_id, device) DO UPDATE SET last_seen = EXCLUDED.last_seen
				RETURNING (xmax = 0) AS fresh)
			INSERT INTO jobs (kind, key, payload, run_at)
			SELECT ?, ?, ?::jsonb, ? FROM seen JOIN bucket_notices n ON n.bucket_id = ? AND n.device_alert
			WHERE seen.fresh ON CONFLICT (key) DO NOTHING`,
			bucketID, dev, now.UTC(), now.UTC(), KindDevice, key, payload, now.UTC(), bucketID),
	}
}

// SignInDeviceQuery records device d on the sign-in's audit row, written
// a moment before in the same session (currval), for the activity list. A
// doctor's sign-in through a share adds only this: the doctor's device is
// not one of the access's own (no new-device alert).
func SignInDeviceQuery(db bun.IDB, bucketID int64, d Device) *bun.RawQuery {
	return db.NewRaw(`INSERT INTO signin_devices (event_id, bucket_id, device)
		VALUES (currval(pg_get_serial_sequence('audit_events', 'id')), ?, ?) ON CONFLICT DO NOTHING`, bucketID, d.String())
}

// Entry is one line of the activity list.
type Entry struct {
	ID        int64     `bun:"id"`
	At        time.Time `bun:"at"`
	Action    string    `bun:"action"`
	ActorKind string    `bun:"actor_kind"`
	ActorName string    `bun:"actor_name"`
	ActorID   *int64    `bun:"actor_id"`
	Device    string    `bun:"device"`
	StudyID   string    `bun:"study_id"`
	Factor    string    `bun:"factor"`
}

// What an entry says happened.
const (
	WhatSignIn   = "signin"
	WhatStudy    = "study"
	WhatImages   = "images"
	WhatReport   = "report"
	WhatDownload = "download"
)

// What is the kind of event (one of the What* constants).
func (e *Entry) What() string {
	switch e.Action {
	case audit.StudyView:
		return WhatStudy
	case audit.SeriesView:
		return WhatImages
	case audit.ReportView:
		return WhatReport
	case audit.StudyDownload, audit.InstanceDownload:
		return WhatDownload
	}
	return WhatSignIn
}

// ActivityPage is how many entries one page of the list shows.
const ActivityPage = 20

// viewActions are the audit actions of patient data seen.
var viewActions = []string{audit.StudyView, audit.SeriesView, audit.ReportView, audit.StudyDownload, audit.InstanceDownload}

// Activity lists the access's events newest first, before event id before
// (0: from the newest), at most limit, and the id to continue before (0: no
// more). Sign-ins of the patient and of a doctor it was shared with (their
// share's sign-in actions), and every successful view or download by either.
// No address is read: the patient never sees one.
func (s *Service) Activity(ctx context.Context, bucketID, before int64, limit int) ([]*Entry, int64, error) {
	q := s.DB.NewSelect().TableExpr("audit_events AS e").
		ColumnExpr("e.id, e.at, e.action, e.actor_kind, e.actor_name, e.actor_id").
		ColumnExpr("coalesce(d.device, '') AS device, coalesce(e.details->>'study_id', '') AS study_id, coalesce(e.details->>'factor', '') AS factor").
		Join("LEFT JOIN signin_devices AS d ON d.event_id = e.id").
		Where("e.bucket_id = ? AND e.outcome = 'ok'", bucketID).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("e.action IN (?) AND e.actor_kind IN ('patient', 'share')", bun.In(viewActions)).
				WhereOr("e.action = ? AND e.actor_kind = 'patient'", audit.PatientSignIn).
				WhereOr("e.actor_kind = 'share' AND e.action = ?", audit.ShareOpen)
		}).
		OrderExpr("e.id DESC").Limit(limit + 1)
	if before > 0 {
		q = q.Where("e.id < ?", before)
	}
	var out []*Entry
	if err := q.Scan(ctx, &out); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// ShareRecipient is to whom share id of bucket bucketID went: the doctor's
// address or number ("" when there is no such share).
func (s *Service) ShareRecipient(ctx context.Context, bucketID, shareID int64) string {
	var to string
	_ = s.DB.NewRaw(`SELECT destination FROM shares WHERE id = ? AND bucket_id = ?`, shareID, bucketID).Scan(ctx, &to)
	return to
}
