package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

func TestRecordAndAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	e := &audit.Event{Action: audit.SignIn, ActorKind: "staff", ActorName: "ann", IP: "192.0.2.1", Details: map[string]any{"k": "v"}}
	if err := audit.Record(ctx, db, e); err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 || e.Outcome != "ok" || e.At.Location().String() != "UTC" {
		t.Fatalf("recorded %+v", e)
	}
	// Defaults for a bare event.
	bare := &audit.Event{Action: "test.bare"}
	if err := audit.Record(ctx, db, bare); err != nil {
		t.Fatal(err)
	}
	if bare.ActorKind != "system" || bare.Details == nil {
		t.Fatalf("bare event %+v", bare)
	}

	attacks := []struct{ name, sql string }{
		{"update", `UPDATE audit_events SET outcome = 'forged' WHERE id = ?`},
		{"update all", `UPDATE audit_events SET actor_name = 'someone else'`},
		{"delete", `DELETE FROM audit_events WHERE id = ?`},
		{"delete all", `DELETE FROM audit_events`},
		{"truncate", `TRUNCATE audit_events`},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			_, err := db.ExecContext(ctx, a.sql, e.ID)
			if err == nil {
				t.Fatal("the audit trail accepted the change")
			}
			if !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("unexpected error: %v", err)
			}
		})
	}
	var n int
	if err := db.NewRaw(`SELECT count(*) FROM audit_events`).Scan(ctx, &n); err != nil || n != 2 {
		t.Fatalf("%d audit rows, want 2 (%v)", n, err)
	}
	var outcome, actor string
	if err := db.NewRaw(`SELECT outcome, actor_name FROM audit_events WHERE id = ?`, e.ID).Scan(ctx, &outcome, &actor); err != nil {
		t.Fatal(err)
	}
	if outcome != "ok" || actor != "ann" {
		t.Fatalf("audit row changed: outcome %q, actor %q", outcome, actor)
	}
}

// An event written in a transaction that rolls back is gone with it; one in a
// committed transaction stays.
func TestRecordFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	_ = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := audit.Record(ctx, tx, &audit.Event{Action: "test.rolledback"}); err != nil {
			t.Fatal(err)
		}
		return context.Canceled // roll back
	})
	if err := database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		return audit.Record(ctx, tx, &audit.Event{Action: "test.committed"})
	}); err != nil {
		t.Fatal(err)
	}
	var actions []string
	if err := db.NewRaw(`SELECT action FROM audit_events ORDER BY id`).Scan(ctx, &actions); err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0] != "test.committed" {
		t.Fatalf("audit rows %v", actions)
	}
}
