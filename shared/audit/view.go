package audit

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// ViewWindow is how long one recorded view covers: stepping through the
// frames of a series is one view, coming back an hour later is another.
// Views are counted in slots of this length aligned on the clock (:00 and
// :30 UTC).
const ViewWindow = 30 * time.Minute

// viewTries is how often a view claims its slot while another transaction
// holds the same claim past the lock timeout before it records the view
// without the claim (see RecordView).
const viewTries = 3

// RecordView records a view of patient data (a study page, a series, a
// report) at most once per actor, view key and ViewWindow slot, whatever the
// request's headers. key names what was seen, e.g. "series:12".
//
// One statement claims the slot in audit_view_slots (INSERT ... ON CONFLICT
// DO NOTHING on its primary key) and writes the audit row only when the
// claim is new, so parallel requests (the frames and thumbnails of a series
// fetched at once, a hundred patients of one bucket opening one image)
// record exactly one row. Nothing queues: a view whose slot is claimed and
// committed waits for nothing, and one whose slot is being claimed waits only
// for that one statement, which commits at once. Pass the pool (every
// handler does): a caller's transaction would hold the claim until it
// commits, and a lock timeout inside it aborts it, retries and fallback
// included. Should that wait still hit the lock timeout (SQLSTATE 55P03) on every try, the
// view is recorded without the claim: at worst a second row for the slot,
// never a view without a row and never an error page because others were
// looking at the same series.
func RecordView(ctx context.Context, db bun.IDB, e *Event, key string) error {
	return recordViewAt(ctx, db, e, key, time.Now().UTC())
}

// recordViewAt is RecordView at time now.
func recordViewAt(ctx context.Context, db bun.IDB, e *Event, key string, now time.Time) error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details["view"] = key
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	if e.ActorKind == "" {
		e.ActorKind = "system"
	}
	details, err := json.Marshal(e.Details)
	if err != nil {
		return err
	}
	now = now.UTC()
	slot := now.Truncate(ViewWindow)
	for range viewTries {
		_, err = db.NewRaw(`WITH claim AS (
				INSERT INTO audit_view_slots (actor_kind, actor_name, action, view, slot)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT DO NOTHING
				RETURNING 1
			)
			INSERT INTO audit_events (at, action, outcome, actor_kind, actor_id, actor_name, department_id, bucket_id, ip, details)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb FROM claim`,
			e.ActorKind, e.ActorName, e.Action, key, slot,
			now, e.Action, e.Outcome, e.ActorKind, e.ActorID, e.ActorName, e.DepartmentID, e.BucketID, e.IP, string(details)).Exec(ctx)
		if !lockNotAvailable(err) {
			return err
		}
	}
	e.At = now
	_, err = db.NewInsert().Model(e).Exec(ctx)
	return err
}

// lockNotAvailable reports PostgreSQL's lock_not_available (55P03): the
// lock timeout ran out.
func lockNotAvailable(err error) bool {
	var pgErr pgdriver.Error
	return errors.As(err, &pgErr) && pgErr.Field('C') == "55P03"
}

// PurgeViewSlots deletes the claims of slots that ended more than a slot
// ago (a margin for clocks of several servers that disagree a little); the
// audit rows they guarded stay. Housekeeping calls it.
func PurgeViewSlots(ctx context.Context, db bun.IDB) (int64, error) {
	res, err := db.NewRaw(`DELETE FROM audit_view_slots WHERE slot < ?`, time.Now().UTC().Truncate(ViewWindow).Add(-2*ViewWindow)).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
