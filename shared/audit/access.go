package audit

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// AccessActions are the actions that show a study's patient data: images
// (study page, series), the report, downloads.
var AccessActions = []string{StudyView, SeriesView, ReportView, StudyDownload, InstanceDownload}

// Access is one access to a study, read from the trail.
type Access struct {
	ID        int64     `bun:"id"`
	At        time.Time `bun:"at"`
	Action    string    `bun:"action"`
	ActorKind string    `bun:"actor_kind"` // staff, patient, share or link
	ActorName string    `bun:"actor_name"` // staff: username
	BucketID  *int64    `bun:"bucket_id"`  // patient: the bucket they signed in to
	SeriesID  string    `bun:"series_id"`
	IP        string    `bun:"ip"`
}

// AccessPageLimit bounds the access log shown on the study page (the CSV
// export has everything).
const AccessPageLimit = 200

// accessQuery selects the successful accesses to studyID, newest first.
// Views and staff downloads carry details.study_id; a patient's download
// lists details.studies. Both are indexed (audit_events_study,
// audit_events_download_studies).
func accessQuery(db bun.IDB, studyID int64) *bun.SelectQuery {
	id := strconv.FormatInt(studyID, 10)
	return db.NewSelect().TableExpr("audit_events AS e").
		ColumnExpr("e.id, e.at, e.action, e.actor_kind, e.actor_name, e.bucket_id, coalesce(e.details->>'series_id', '') AS series_id, e.ip").
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("e.details->>'study_id' = ? AND e.action IN (?)", id, bun.In(AccessActions)).
				WhereOr("e.action = ? AND e.details->'studies' @> ?::jsonb", StudyDownload, "["+id+"]")
		}).
		Where("e.outcome = 'ok'").
		OrderExpr("e.at DESC, e.id DESC")
}

// StudyAccess lists the latest accesses to study studyID (at most limit).
// The caller has checked that the viewer may see the study.
func StudyAccess(ctx context.Context, db bun.IDB, studyID int64, limit int) ([]*Access, error) {
	var out []*Access
	err := accessQuery(db, studyID).Limit(limit).Scan(ctx, &out)
	return out, err
}

// EachStudyAccess calls fn for every access to study studyID, newest first,
// reading rows as they come (the CSV export streams them); an error from fn
// stops the walk and is returned.
func EachStudyAccess(ctx context.Context, db *bun.DB, studyID int64, fn func(*Access) error) error {
	rows, err := accessQuery(db, studyID).Rows(ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		a := new(Access)
		if err := db.ScanRow(ctx, rows, a); err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}
