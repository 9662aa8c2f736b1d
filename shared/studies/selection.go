package studies

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// Selected is a study kept in the selection (checked earlier, or brought back
// by PRINT AGAIN) with the patient it belongs to.
type Selected struct {
	ID           int64 `bun:"id"`
	PatientRowID int64 `bun:"patient_row_id"`
}

// MaxSelection bounds how many studies one selection carries.
const MaxSelection = 50

// Selection returns those of ids that u may see, in id order; unknown ids and
// other departments' studies are dropped silently (the list never confirms
// they exist).
func Selection(ctx context.Context, db bun.IDB, u *database.User, ids []int64) ([]Selected, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxSelection {
		ids = ids[:MaxSelection]
	}
	q := db.NewSelect().TableExpr("studies AS s").
		ColumnExpr("s.id, s.patient_id AS patient_row_id").
		Where("s.id IN (?)", bun.In(ids)).
		OrderExpr("s.id")
	if !u.IsServiceDesk() {
		if u.DepartmentID == nil {
			return nil, nil
		}
		q = q.Where("s.department_id = ?", *u.DepartmentID)
	}
	var out []Selected
	if err := q.Scan(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}
