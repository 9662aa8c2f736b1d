package audit

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
)

// ViewWindow is how long one recorded view covers: stepping through the
// frames of a series is one view, coming back an hour later is another.
const ViewWindow = 30 * time.Minute

// RecordView records a view of patient data (a study page, a series, a
// report) at most once per actor, view key and ViewWindow, whatever the
// request's headers. key names what was seen, e.g. "series:12". The common
// case (already recorded) is one read; otherwise the check and the insert
// run under a transaction-scoped advisory lock on (actor, action, key), so
// parallel requests (the frames of a series fetched at once) record one row:
// a lone INSERT ... WHERE NOT EXISTS is not enough, as concurrent statements
// do not see each other's uncommitted rows.
func RecordView(ctx context.Context, db bun.IDB, e *Event, key string) error {
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
	now := time.Now().UTC()
	const seen = `SELECT EXISTS (SELECT 1 FROM audit_events WHERE actor_name = ? AND details->>'view' = ? AND action = ? AND at > ?)`
	var recorded bool
	if err := db.NewRaw(seen, e.ActorName, key, e.Action, now.Add(-ViewWindow)).Scan(ctx, &recorded); err != nil || recorded {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('audit-view:' || ? || ':' || ? || ':' || ?))`,
			e.ActorName, e.Action, key); err != nil {
			return err
		}
		_, err := tx.NewRaw(`INSERT INTO audit_events (at, action, outcome, actor_kind, actor_id, actor_name, department_id, bucket_id, ip, details)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb
			WHERE NOT EXISTS (SELECT 1 FROM audit_events WHERE actor_name = ? AND details->>'view' = ? AND action = ? AND at > ?)`,
			now, e.Action, e.Outcome, e.ActorKind, e.ActorID, e.ActorName, e.DepartmentID, e.BucketID, e.IP, string(details),
			e.ActorName, key, e.Action, now.Add(-ViewWindow)).Exec(ctx)
		return err
	})
}
