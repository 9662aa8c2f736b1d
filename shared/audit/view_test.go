package audit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// rowsOf counts the audit rows of view key by actor.
func rowsOf(t *testing.T, db bun.IDB, actor, action, key string) int {
	t.Helper()
	var n int
	if err := db.NewRaw(`SELECT count(*) FROM audit_events WHERE actor_name = ? AND action = ? AND details->>'view' = ?`,
		actor, action, key).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A hundred parallel views of one series by one bucket (every frame and
// thumbnail of it, or a hundred patients sharing one access) record one
// row and none fails (no queue past the lock timeout: SQLSTATE 55P03), on a
// pool with the server's lock and statement timeouts. Views already recorded
// add nothing; another viewer, another view of the same key and another
// series are apart.
func TestRecordViewStampede(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, dsn := testdb.NewWithURL(t)
	db, err := database.Open(ctx, dsn, database.RequestTimeouts())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dept, bucket := int64(1), int64(7)
	view := func(actor, action, key string) error {
		return audit.RecordView(ctx, db, &audit.Event{Action: action, ActorKind: "patient", ActorName: actor,
			DepartmentID: &dept, BucketID: &bucket, IP: "192.0.2.7", Details: map[string]any{"series_id": 3}}, key)
	}
	for round := range 2 {
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for range 100 {
			wg.Go(func() {
				<-gate
				if err := view("bucket:7", audit.SeriesView, "series:3"); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		close(gate)
		wg.Wait()
		if n := rowsOf(t, db, "bucket:7", audit.SeriesView, "series:3"); n != 1 {
			t.Fatalf("round %d: %d rows for 100 parallel views of one series, want 1", round, n)
		}
	}
	for _, v := range []struct{ actor, action, key string }{
		{"bucket:8", audit.SeriesView, "series:3"},
		{"bucket:7", audit.StudyView, "series:3"},
		{"bucket:7", audit.SeriesView, "series:4"},
	} {
		if err := view(v.actor, v.action, v.key); err != nil {
			t.Fatal(err)
		}
		if n := rowsOf(t, db, v.actor, v.action, v.key); n != 1 {
			t.Fatalf("%+v: %d rows, want 1", v, n)
		}
	}
	var row struct {
		Outcome      string `bun:"outcome"`
		ActorKind    string `bun:"actor_kind"`
		DepartmentID int64  `bun:"department_id"`
		BucketID     int64  `bun:"bucket_id"`
		IP           string `bun:"ip"`
		SeriesID     string `bun:"series_id"`
	}
	if err := db.NewRaw(`SELECT outcome, actor_kind, department_id, bucket_id, ip, details->>'series_id' AS series_id
		FROM audit_events WHERE actor_name = 'bucket:7' AND details->>'view' = 'series:3' AND action = ?`, audit.SeriesView).Scan(ctx, &row); err != nil {
		t.Fatal(err)
	}
	if row.Outcome != "ok" || row.ActorKind != "patient" || row.DepartmentID != 1 || row.BucketID != 7 || row.IP != "192.0.2.7" || row.SeriesID != "3" {
		t.Fatalf("audit row %+v", row)
	}
}

// A view is recorded once per half-hour slot of the clock: again in the
// next slot, not again within one.
func TestRecordViewSlots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for i, tc := range []struct {
		at   string
		rows int // rows after this view
	}{
		{"2026-11-30T10:00:00Z", 1},
		{"2026-11-30T10:29:59Z", 1},
		{"2026-11-30T10:30:00Z", 2},
		{"2026-11-30T12:59:00+02:00", 2}, // 10:59 UTC: the slot of 10:30
		{"2026-11-30T11:45:00Z", 3},
		{"2026-11-30T11:00:00Z", 4}, // an earlier slot not seen yet
		{"2026-11-30T11:29:00Z", 4},
		{"2026-11-30T12:00:00Z", 5},
	} {
		e := &audit.Event{Action: audit.SeriesView, ActorKind: "staff", ActorName: "ann"}
		if err := audit.RecordViewAt(ctx, db, e, "series:1", at(tc.at)); err != nil {
			t.Fatal(err)
		}
		if n := rowsOf(t, db, "ann", audit.SeriesView, "series:1"); n != tc.rows {
			t.Fatalf("view %d at %s: %d rows, want %d", i, tc.at, n, tc.rows)
		}
	}
}

// A view whose slot another transaction holds longer than the lock timeout
// on every try is still recorded, without an error: the other transaction
// may roll back, and a view must never go unrecorded nor become an error
// page because of it.
func TestRecordViewWhileAnotherHoldsTheClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	ev := func() *audit.Event {
		return &audit.Event{Action: audit.SeriesView, ActorKind: "staff", ActorName: "ann"}
	}
	if err := audit.RecordView(ctx, tx, ev(), "series:1"); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET lock_timeout = '50ms'`); err != nil {
		t.Fatal(err)
	}
	if err := audit.RecordView(ctx, conn, ev(), "series:1"); err != nil {
		t.Fatalf("view while another transaction holds its slot: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := rowsOf(t, db, "ann", audit.SeriesView, "series:1"); n != 1 {
		t.Fatalf("%d rows after the claiming transaction rolled back, want 1", n)
	}
}

// PurgeViewSlots forgets the claims of past slots, never the audit rows nor
// the claims of the current slot.
func TestPurgeViewSlots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	now := time.Now().UTC()
	for _, at := range []time.Time{now.Add(-3 * time.Hour), now.Add(-2 * time.Hour), now} {
		if err := audit.RecordViewAt(ctx, db, &audit.Event{Action: audit.StudyView, ActorName: "ann"}, "study:1", at); err != nil {
			t.Fatal(err)
		}
	}
	n, err := audit.PurgeViewSlots(ctx, db)
	if err != nil || n != 2 {
		t.Fatalf("purged %d claims (%v), want 2", n, err)
	}
	if c := testdb.Count(t, db, "audit_view_slots"); c != 1 {
		t.Fatalf("%d claims left, want the current one", c)
	}
	if err := audit.RecordViewAt(ctx, db, &audit.Event{Action: audit.StudyView, ActorName: "ann"}, "study:1", now); err != nil {
		t.Fatal(err)
	}
	if c := rowsOf(t, db, "ann", audit.StudyView, "study:1"); c != 3 {
		t.Fatalf("%d audit rows, want 3 (purging claims keeps every row, and the current slot's view is not recorded again)", c)
	}
}
