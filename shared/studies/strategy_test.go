package studies

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/testdb"
)

// The three ways of running a search must give the same pages: which one
// runs depends on statistics, so each is forced here.
func TestStrategiesAgree(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	d := &store.Department{Code: "STRAT", Name: "Strategy", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	if _, err := db.NewInsert().Model(d).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	u := &store.User{ID: 1, Role: store.RoleStaff, DepartmentID: &d.ID}
	for i := 0; i < 30; i++ {
		p := &store.Patient{DepartmentID: d.ID, PatientID: fmt.Sprintf("ID%03d", i), FamilyName: []string{"Müller", "Nowak", "Schäfer"}[i%3], GivenName: "Kim"}
		if _, err := db.NewInsert().Model(p).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 3; j++ {
			var day *time.Time
			if j != 2 {
				t := time.Date(2026, time.Month(1+j), 1+i%5, 0, 0, 0, 0, time.UTC)
				day = &t
			}
			s := &store.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: fmt.Sprintf("1.2.%d.%d", i, j), StudyDate: day,
				Accession: fmt.Sprintf("AC%03d%d", i, j), Modalities: []string{[]string{"CT", "MR"}[j%2]}, ReportStatus: "none"}
			if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	pages := func(f Filter, st strategy) [][]int64 {
		var out [][]int64
		for n := 0; n < 50; n++ {
			q, _, limit, err := query(db, u, f, st)
			if err != nil {
				t.Fatal(err)
			}
			var rows []Row
			if err := q.Scan(ctx, &rows); err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for i, r := range rows {
				if i < limit {
					ids = append(ids, r.ID)
				}
			}
			out = append(out, ids)
			if len(rows) <= limit {
				return out
			}
			f.After = rows[limit-1].Cursor()
		}
		t.Fatal("pages do not end")
		return nil
	}
	for _, f := range []Filter{
		{Query: "muller", Limit: 4},
		{Query: "kim", Modality: "CT", Limit: 5},
		{Query: "schafer", From: ptr(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)), Limit: 3},
	} {
		a, b := pages(f, walk), pages(f, sorted)
		if len(a) < 2 || !slices.EqualFunc(a, b, slices.Equal) {
			t.Fatalf("%+v: walk %v, sorted %v", f, a, b)
		}
	}
	// exact: patient ID or accession as stored, any case typed.
	for q, want := range map[string]int{"ID007": 3, "id007": 3, "AC0071": 1} {
		st, err := chooseStrategy(ctx, db, u, Filter{Query: q})
		if err != nil || st != exact {
			t.Fatalf("%q: strategy %v (%v), want exact", q, st, err)
		}
		got := pages(Filter{Query: q}, exact)
		if len(got[0]) != want {
			t.Fatalf("%q: %d studies, want %d", q, len(got[0]), want)
		}
	}
	// A part of an ID is not exact: it falls back to the trigram search.
	if st, _ := chooseStrategy(ctx, db, u, Filter{Query: "D00"}); st == exact {
		t.Fatal("a partial ID was taken as exact")
	}
}

func ptr[T any](v T) *T { return &v }
