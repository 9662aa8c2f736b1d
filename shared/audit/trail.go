package audit

import (
	"context"
	"io"

	"github.com/uptrace/bun"
)

// Trail is the audit trail on one database, for handlers.
type Trail struct{ DB *bun.DB }

// Record appends e (see Record).
func (t Trail) Record(ctx context.Context, e *Event) error { return Record(ctx, t.DB, e) }

// RecordView appends a view of patient data once per key and slot (see RecordView).
func (t Trail) RecordView(ctx context.Context, e *Event, key string) error {
	return RecordView(ctx, t.DB, e, key)
}

// Search is one page of events matching q (see Search).
func (t Trail) Search(ctx context.Context, q Query) (Page, error) { return Search(ctx, t.DB, q) }

// WriteCSV writes every event matching q as CSV (see WriteCSV).
func (t Trail) WriteCSV(ctx context.Context, q Query, w io.Writer) (int, error) {
	return WriteCSV(ctx, t.DB, q, w)
}

// StudyAccess lists the latest accesses to study studyID (see StudyAccess).
func (t Trail) StudyAccess(ctx context.Context, studyID int64, limit int) ([]*Access, error) {
	return StudyAccess(ctx, t.DB, studyID, limit)
}

// EachStudyAccess streams every access to study studyID (see EachStudyAccess).
func (t Trail) EachStudyAccess(ctx context.Context, studyID int64, fn func(*Access) error) error {
	return EachStudyAccess(ctx, t.DB, studyID, fn)
}
