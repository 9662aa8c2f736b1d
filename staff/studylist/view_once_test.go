package studylist_test

import (
	"context"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// audit.RecordView (used by the study page and the image endpoint) records
// one row for parallel views of one series, even when every request has a
// pool connection ready: an INSERT ... WHERE NOT EXISTS alone recorded two
// or more. (A unit test of shared/audit kept here, next to its callers.)
func TestRecordViewOnceUnderParallelRequests(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		// Warm the pool so the views below start at the same moment.
		var warm sync.WaitGroup
		for i := 0; i < 24; i++ {
			warm.Add(1)
			go func() {
				defer warm.Done()
				if _, err := db.ExecContext(ctx, `SELECT pg_sleep(0.2)`); err != nil {
					t.Error(err)
				}
			}()
		}
		warm.Wait()
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for i := 0; i < 24; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				e := &audit.Event{Action: audit.SeriesView, ActorKind: "staff", ActorName: "ann", Details: map[string]any{"series_id": round}}
				if err := audit.RecordView(ctx, db, e, "series:"+string(rune('0'+round))); err != nil {
					t.Error(err)
				}
			}()
		}
		close(gate)
		wg.Wait()
	}
	var rows []struct {
		View string `bun:"view"`
		N    int    `bun:"n"`
	}
	if err := db.NewRaw(`SELECT details->>'view' AS view, count(*) AS n FROM audit_events GROUP BY 1 ORDER BY 1`).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("views recorded: %+v, want 3 series once each", rows)
	}
	for _, r := range rows {
		if r.N != 1 {
			t.Errorf("%s recorded %d times for 24 parallel views, want once", r.View, r.N)
		}
	}
	// Another viewer of the same series is recorded apart.
	if err := audit.RecordView(ctx, db, &audit.Event{Action: audit.SeriesView, ActorName: "bob"}, "series:0"); err != nil {
		t.Fatal(err)
	}
	if n := testdb.Count(t, db, "audit_events"); n != 4 {
		t.Fatalf("%d rows after another viewer, want 4", n)
	}
}
