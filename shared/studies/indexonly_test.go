package studies

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// The budget walk and the walk with filters read the covering index alone,
// and after a bulk load (which vacuums) never visit the table: that is what
// makes them cheap at a million studies. A report filter walks the index
// with the report status in its key, which reads only the entries of that
// status.
func TestWalksAreIndexOnlyAfterBulkLoad(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	ctx := context.Background()
	if _, err := seed.Bulk(ctx, dsn, 3000, nil); err != nil {
		t.Fatal(err)
	}
	var dept int64
	if err := db.NewRaw("SELECT min(id) FROM departments").Scan(ctx, &dept); err != nil {
		t.Fatal(err)
	}
	staff := &database.User{ID: 1, Role: database.RoleStaff, DepartmentID: &dept}
	desk := &database.User{ID: 2, Role: database.RoleServiceDesk}
	for _, c := range []struct {
		name  string
		u     *database.User
		f     Filter
		pl    plan
		index string
	}{
		{"budget", staff, Filter{Query: "mar", Modality: "CT", Report: ReportYes}, plan{st: budget, entries: 1000}, "studies_dept_report_walk"},
		{"budget-desk", desk, Filter{Query: "müller"}, plan{st: budget, entries: 1000}, "studies_walk"},
		{"walk", staff, Filter{Query: "e", Modality: "MR", Report: ReportNo}, plan{st: walk}, "studies_dept_report_walk"},
		{"walk-no-report-filter", staff, Filter{Query: "e", Modality: "MR"}, plan{st: walk}, "studies_dept_walk"},
	} {
		q, _, _, err := query(db, c.u, c.f, c.pl)
		if err != nil {
			t.Fatal(err)
		}
		var scans []node
		// At 3,000 rows the planner may rightly prefer a sequential scan; the
		// point here is that the index path needs no table visits.
		err = db.RunInTx(ctx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_bitmapscan = off"); err != nil {
				return err
			}
			var out string
			if err := tx.NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) ?", q).Scan(ctx, &out); err != nil {
				return err
			}
			var plans []struct{ Plan node }
			if err := json.Unmarshal([]byte(out), &plans); err != nil {
				return err
			}
			scans = plans[0].Plan.find("studies_dept_walk", "studies_walk", "studies_dept_report_walk")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(scans) != 1 {
			t.Fatalf("%s: %d scans of the walk indexes, want 1", c.name, len(scans))
		}
		if s := scans[0]; s.Type != "Index Only Scan" || s.HeapFetches != 0 || s.Rows == 0 || s.Index != c.index {
			t.Fatalf("%s: %s on %s, %d heap fetches, %v rows; want an index-only scan of %s with none", c.name, s.Type, s.Index, s.HeapFetches, s.Rows, c.index)
		}
	}
}

// node is a plan node of EXPLAIN (FORMAT JSON).
type node struct {
	Type        string  `json:"Node Type"`
	Index       string  `json:"Index Name"`
	HeapFetches int     `json:"Heap Fetches"`
	Rows        float64 `json:"Actual Rows"`
	Plans       []node  `json:"Plans"`
}

// find returns the nodes under n that scan one of the indexes.
func (n node) find(indexes ...string) []node {
	var out []node
	for _, ix := range indexes {
		if n.Index == ix {
			out = append(out, n)
		}
	}
	for _, c := range n.Plans {
		out = append(out, c.find(indexes...)...)
	}
	return out
}
