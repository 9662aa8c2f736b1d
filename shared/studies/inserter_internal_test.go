package studies

import (
	"context"
	"testing"

	"github.com/uptrace/bun"
)

// inserter returns a function that inserts one model into db or fails t:
// the fixtures of the internal tests are built row by row with it.
func inserter(t *testing.T, db bun.IDB) func(model any) {
	return func(model any) {
		t.Helper()
		if _, err := db.NewInsert().Model(model).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}
