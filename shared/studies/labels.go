package studies

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// attachLabels loads the labels of the rows that concern u: those set for u
// or for one of u's groups (for every role: a label is meant for someone).
func attachLabels(ctx context.Context, db bun.IDB, u *database.User, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		at[r.ID] = i
	}
	q := db.NewSelect().
		TableExpr("study_labels AS sl").
		Join("JOIN labels AS l ON l.id = sl.label_id").
		Join("LEFT JOIN groups AS g ON g.id = sl.group_id").
		ColumnExpr("sl.id, sl.study_id, sl.label_id, l.name, l.color, coalesce(g.name, '') AS group_name").
		Where("sl.study_id IN (?)", bun.In(ids)).
		Where(concerns, u.ID, u.ID).
		OrderExpr("sl.study_id, lower(l.name), sl.id")
	var labels []Label
	if err := q.Scan(ctx, &labels); err != nil {
		return err
	}
	for _, l := range labels {
		i := at[l.StudyID]
		rows[i].Labels = append(rows[i].Labels, l)
	}
	return nil
}

// LabelsOf returns the labels of study id that concern u (as the study list
// shows them), for refreshing one row's labels.
func LabelsOf(ctx context.Context, db bun.IDB, u *database.User, id int64) ([]Label, error) {
	rows := []Row{{ID: id}}
	if err := attachLabels(ctx, db, u, rows); err != nil {
		return nil, err
	}
	return rows[0].Labels, nil
}
