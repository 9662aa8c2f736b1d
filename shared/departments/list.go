package departments

import (
	"context"

	"github.com/uptrace/bun"
)

// Summary is a department as a choice of a form: its id and name.
type Summary struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// List returns every department, ordered by name.
func List(ctx context.Context, db bun.IDB) ([]Summary, error) {
	var out []Summary
	err := db.NewSelect().TableExpr("departments").ColumnExpr("id, name").OrderExpr("name, id").Scan(ctx, &out)
	return out, err
}
