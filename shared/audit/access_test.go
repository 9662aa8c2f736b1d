package audit_test

import (
	"context"
	"errors"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// TestStudyAccess: the log of a study holds its views (study, series,
// report) and downloads, staff and patient, newest first, whether the
// download named the study alone or among others; not another study's
// events, not failed ones, not actions that show no patient data.
func TestStudyAccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	svc := audit.Trail{DB: db}
	const study, other = int64(501), int64(502)
	b1, b2 := int64(11), int64(12)
	rec := func(e *audit.Event) *audit.Event {
		t.Helper()
		if err := audit.Record(ctx, db, e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	view := rec(&audit.Event{Action: audit.StudyView, ActorKind: "patient", ActorName: "bucket:11", BucketID: &b1, IP: "192.0.2.7", Details: map[string]any{"study_id": study}})
	series := rec(&audit.Event{Action: audit.SeriesView, ActorKind: "staff", ActorName: "nstaff", Details: map[string]any{"study_id": study, "series_id": 77}})
	rec(&audit.Event{Action: audit.ReportView, ActorKind: "staff", ActorName: "nstaff", Outcome: "denied", Details: map[string]any{"study_id": study}})
	rec(&audit.Event{Action: audit.BucketPrint, ActorKind: "staff", ActorName: "nstaff", Details: map[string]any{"study_id": study}})
	rec(&audit.Event{Action: audit.StudyView, ActorKind: "staff", ActorName: "nstaff", Details: map[string]any{"study_id": other}})
	rec(&audit.Event{Action: audit.StudyDownload, ActorKind: "patient", ActorName: "bucket:12", BucketID: &b2, Details: map[string]any{"studies": []int64{other}}})
	report := rec(&audit.Event{Action: audit.ReportView, ActorKind: "staff", ActorName: "sadmin", Details: map[string]any{"study_id": study}})
	dl := rec(&audit.Event{Action: audit.StudyDownload, ActorKind: "patient", ActorName: "bucket:11", BucketID: &b1, Details: map[string]any{"studies": []int64{other, study}}})
	want := []*audit.Event{dl, report, series, view}

	got, err := svc.StudyAccess(ctx, study, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d accesses, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || g.Action != w.Action || g.ActorKind != w.ActorKind || g.ActorName != w.ActorName || g.IP != w.IP {
			t.Fatalf("access %d: %+v, want event %+v", i, g, w)
		}
		if (g.BucketID == nil) != (w.BucketID == nil) || (g.BucketID != nil && *g.BucketID != *w.BucketID) {
			t.Fatalf("access %d bucket %v, want %v", i, g.BucketID, w.BucketID)
		}
	}
	if got[2].SeriesID != "77" || got[0].SeriesID != "" {
		t.Fatalf("series ids %q %q", got[2].SeriesID, got[0].SeriesID)
	}
	if got[3].At.IsZero() || got[3].IP != "192.0.2.7" {
		t.Fatalf("oldest access %+v", got[3])
	}

	// The limit keeps the newest.
	if top, err := svc.StudyAccess(ctx, study, 2); err != nil || len(top) != 2 || top[0].ID != dl.ID || top[1].ID != report.ID {
		t.Fatalf("limited: %+v %v", top, err)
	}

	// Streaming gives the same rows in the same order; fn's error stops it.
	var streamed []int64
	if err := svc.EachStudyAccess(ctx, study, func(a *audit.Access) error { streamed = append(streamed, a.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(streamed) != len(want) {
		t.Fatalf("streamed %v", streamed)
	}
	for i, w := range want {
		if streamed[i] != w.ID {
			t.Fatalf("streamed %v, want ids of %v", streamed, want)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := svc.EachStudyAccess(ctx, study, func(*audit.Access) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("stopped after %d: %v", n, err)
	}

	// A study nobody saw has an empty log.
	if none, err := svc.StudyAccess(ctx, 999, 10); err != nil || len(none) != 0 {
		t.Fatalf("unseen study: %+v %v", none, err)
	}
}
