package studies

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// The three ways of running a search must give the same pages: which one
// runs depends on statistics, so each is forced here.
func TestStrategiesAgree(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	d := &database.Department{Code: "STRAT", Name: "Strategy", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	if _, err := db.NewInsert().Model(d).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	u := &database.User{ID: 1, Role: database.RoleStaff, DepartmentID: &d.ID}
	for i := 0; i < 30; i++ {
		p := &database.Patient{DepartmentID: d.ID, PatientID: fmt.Sprintf("ID%03d", i), FamilyName: []string{"Müller", "Nowak", "Schäfer"}[i%3], GivenName: "Kim"}
		if _, err := db.NewInsert().Model(p).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 3; j++ {
			var day *time.Time
			if j != 2 {
				t := time.Date(2026, time.Month(1+j), 1+i%5, 0, 0, 0, 0, time.UTC)
				day = &t
			}
			s := &database.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: fmt.Sprintf("1.2.%d.%d", i, j), StudyDate: day,
				Accession: fmt.Sprintf("AC%03d%d", i, j), Modalities: []string{[]string{"CT", "MR"}[j%2]}, ReportStatus: "none"}
			if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// pages runs st page by page. A budget walk's page counts only when
	// full, a listed one only when the candidates were all collected (else
	// Search falls back): misses counts those.
	misses, hits := 0, 0
	seen := map[strategy]int{}
	byWords := map[bool]int{} // collect pages by the word index, by the trigram one
	pages := func(f Filter, st strategy, n int) [][]int64 {
		var out [][]int64
		for page := 0; page < 50; page++ {
			r, rows, fellBack := forcedPage(t, db, u, f, st, n)
			limit := r.limit
			if r.st == collect {
				byWords[r.byWords]++
			}
			if fellBack {
				misses++
			} else if st == budget || st == listed || r.st == collect {
				hits++
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
		{Query: "kim", Report: ReportNo, To: ptr(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)), Limit: 6},
		{Modality: "MR", Limit: 7},
		// Two words (both by the word index), a part of a name, a part of
		// an ID (the trigram index: "ac" is in the accession numbers) and
		// a word that is no name.
		{Query: "kim, mull", Limit: 4},
		{Query: "owa", Limit: 4},
		{Query: "ac", Modality: "MR", Limit: 4},
		{Query: "zzz", Limit: 4},
	} {
		a, b := pages(f, walk, 0), pages(f, sorted, 0)
		if len(a) < 2 && f.Query != "zzz" || !slices.EqualFunc(a, b, slices.Equal) {
			t.Fatalf("%+v: walk %v, sorted %v", f, a, b)
		}
		// Budgets and caps that serve some pages and not others, and one that
		// always does.
		// listed with the candidates of the trigram index alone is the
		// query before collect: collect must give the same pages.
		for _, st := range []strategy{budget, listed, collect, collectTrigrams} {
			sizes := []int{3, 12, 40, 1000}
			if st == collect || st == collectTrigrams {
				sizes = []int{3, 1000} // cut, and all collected
			}
			for _, n := range sizes {
				if c := pages(f, st, n); !slices.EqualFunc(a, c, slices.Equal) {
					t.Fatalf("%+v: walk %v, %v %d %v", f, a, st, n, c)
				}
			}
		}
		// And what Search runs, also with small limits that send it on to
		// the budget walk and the fallback.
		for _, lim := range []limits{defaults, {2, 3, labelSortCap}, {2, 20, labelSortCap}, {0, 0, labelSortCap}} {
			var got [][]int64
			for g := f; ; {
				r, err := find(ctx, db, u, g, lim)
				if err != nil {
					t.Fatal(err)
				}
				if g.Query != "" {
					seen[r.st]++
				}
				var ids []int64
				for i, row := range r.rows {
					if i < r.limit {
						ids = append(ids, row.ID)
					}
				}
				got = append(got, ids)
				if len(r.rows) <= r.limit {
					break
				}
				g.After = r.rows[r.limit-1].Cursor()
			}
			if !slices.EqualFunc(a, got, slices.Equal) {
				t.Fatalf("%+v, limits %v: walk %v, find %v", f, lim, a, got)
			}
			// Backwards: before each page's first study come the previous
			// page's studies, nearest first.
			for i := 1; i < len(a); i++ {
				g := f
				g.Before = cursorOf(t, a[i][:1], db)
				r, err := find(ctx, db, u, g, lim)
				if err != nil {
					t.Fatal(err)
				}
				if !r.backward || len(r.rows) < len(a[i-1]) {
					t.Fatalf("%+v, limits %v: back from page %d gave %d rows", f, lim, i, len(r.rows))
				}
				for j, row := range r.rows[:len(a[i-1])] {
					if want := a[i-1][len(a[i-1])-1-j]; row.ID != want {
						t.Fatalf("%+v, limits %v: back from page %d, row %d is %d, want %d", f, lim, i, j, row.ID, want)
					}
				}
			}
		}
		// Going back from the last page gives the same pages.
		if len(a) > 1 {
			g := f
			last, err := Search(ctx, db, u, Filter{Query: f.Query, Modality: f.Modality, Report: f.Report, From: f.From, To: f.To, Limit: f.Limit, After: cursorOf(t, a[len(a)-2], db)})
			if err != nil {
				t.Fatal(err)
			}
			g.Before = last.Prev
			prev, err := Search(ctx, db, u, g)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, r := range prev.Rows {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, a[len(a)-2]) {
				t.Fatalf("%+v: back from the last page %v, want %v", f, ids, a[len(a)-2])
			}
		}
	}
	if seen[collect] == 0 || seen[budget] == 0 || seen[walk]+seen[sorted] == 0 {
		t.Fatalf("searches by strategy %v: the test wants collect, budget and a fallback", seen)
	}
	if byWords[true] == 0 || byWords[false] == 0 {
		t.Fatalf("collect pages by the word index / the trigram index: %d / %d; the test wants both", byWords[true], byWords[false])
	}
	if misses == 0 || hits == 0 {
		t.Fatalf("budget walks and lists: %d served pages, %d fallbacks; the test wants both", hits, misses)
	}
	// exact: patient ID or accession as stored, any case typed.
	for q, want := range map[string]int{"ID007": 3, "id007": 3, "AC0071": 1} {
		r, err := find(ctx, db, u, Filter{Query: q}, defaults)
		if err != nil || r.st != exact {
			t.Fatalf("%q: strategy %v (%v), want exact", q, r.st, err)
		}
		if len(r.rows) != want {
			t.Fatalf("%q: %d studies, want %d", q, len(r.rows), want)
		}
	}
	// A part of an ID is not exact: it falls back to the trigram search.
	if r, _ := find(ctx, db, u, Filter{Query: "D00"}, defaults); r.st == exact || len(r.rows) != 30 {
		t.Fatalf("a partial ID: strategy %v, %d studies", r.st, len(r.rows))
	}
}

func ptr[T any](v T) *T { return &v }

// collectTrigrams is collect forced to the trigram index (tests only).
const collectTrigrams strategy = 100

// candidates returns up to limit+1 ids of the studies in scope and date
// range after the cursor that contain the search words (trigram index), in
// no order: the candidates of the query before collect, kept as its
// reference.
func candidates(ctx context.Context, db bun.IDB, u *database.User, f Filter, limit int) ([]int64, error) {
	q, err := pastCursors(dateRange(tokenConds(scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("s.id"), u, f), f), f), f)
	if err != nil {
		return nil, err
	}
	var ids []int64
	if err := q.Limit(limit+1).Scan(ctx, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// cursorOf is the cursor of the last study of a page.
func cursorOf(t *testing.T, page []int64, db bun.IDB) string {
	t.Helper()
	var s database.Study
	if err := db.NewSelect().Model(&s).Where("id = ?", page[len(page)-1]).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return Row{ID: s.ID, StudyDate: s.StudyDate}.Cursor()
}

// forcedPage runs one page of f the way Search does once it has chosen st
// (n: the budget's entries or the candidates' cap), falling back to sorted
// where Search would: a budget walk that does not fill its page, or
// candidates past the cap. It returns the chosen plan's result, the rows
// of the page (limit+1 at most) and whether it fell back.
func forcedPage(t *testing.T, db bun.IDB, u *database.User, f Filter, st strategy, n int) (result, []Row, bool) {
	t.Helper()
	ctx := context.Background()
	pl := plan{st: st, entries: n}
	if st == listed {
		ids, err := candidates(ctx, db, u, f, n)
		if err != nil {
			t.Fatal(err)
		}
		pl.ids = ids
	}
	if st == collect {
		words, err := nameWords(ctx, db, Tokens(f.Query))
		if err != nil {
			t.Fatal(err)
		}
		pl.words = words
	}
	if st == collectTrigrams {
		pl.st = collect
	}
	r, err := run(ctx, db, u, f, pl)
	if err != nil {
		t.Fatal(err)
	}
	if !(st == budget && len(r.rows) <= r.limit || st == listed && len(pl.ids) > n || pl.st == collect && r.candidates > n) {
		return r, r.rows, false
	}
	q, _, _, err := query(db, u, f, plan{st: sorted})
	if err != nil {
		t.Fatal(err)
	}
	var rows []Row
	if err := q.Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	return r, rows, true
}
