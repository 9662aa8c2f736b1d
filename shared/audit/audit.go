// Package audit appends events to the audit trail. The table refuses UPDATE,
// DELETE and TRUNCATE (a trigger), so what is written stays written. Callers
// pass their transaction so an event is stored exactly when its action is.
package audit

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Event is one audit row. Details must never hold a secret (reference number,
// OTP, password, session id).
type Event struct {
	bun.BaseModel `bun:"table:audit_events"`

	ID           int64          `bun:"id,pk,autoincrement"`
	At           time.Time      `bun:"at,nullzero,default:now()"`
	Action       string         `bun:"action"`
	Outcome      string         `bun:"outcome"`
	ActorKind    string         `bun:"actor_kind"`
	ActorID      *int64         `bun:"actor_id"`
	ActorName    string         `bun:"actor_name"`
	DepartmentID *int64         `bun:"department_id"`
	BucketID     *int64         `bun:"bucket_id"`
	IP           string         `bun:"ip"`
	Details      map[string]any `bun:"details,type:jsonb"`
}

// Record appends e using db (a *bun.DB or the caller's bun.Tx).
func Record(ctx context.Context, db bun.IDB, e *Event) error {
	_, err := Insert(db, e).Exec(ctx)
	return err
}

// Insert is the statement Record runs, for a caller that sends it in one
// round trip with other statements of its transaction.
func Insert(db bun.IDB, e *Event) *bun.InsertQuery {
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	if e.ActorKind == "" {
		e.ActorKind = "system"
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.At = time.Now().UTC()
	return db.NewInsert().Model(e)
}
