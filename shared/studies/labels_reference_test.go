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

// "Contains labels" with a name search gives, page after page, exactly the
// studies of one plain reference query (a join, no strategy), in its order:
// whichever strategy serves each page (listed labelled ids, candidates,
// budget walk, sorted, intersect, walk), forced here through small limits.
// bob carries none of the labels, which studies.label_ids (labels for
// anyone) holds all the same: intersect must still find nothing for him.
func TestLabelAndNameMatchReference(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	ins := inserter(t, db)
	d := &database.Department{Code: "REF", Name: "Reference", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	o := &database.Department{Code: "REFO", Name: "Other", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	ins(d)
	ins(o)
	ann := &database.User{Username: "ann", Role: database.RoleStaff, DepartmentID: &d.ID, PasswordHash: "x"}
	bob := &database.User{Username: "bob", Role: database.RoleStaff, DepartmentID: &d.ID, PasswordHash: "x"}
	ins(ann)
	ins(bob)
	g := &database.Group{DepartmentID: d.ID, Name: "Team"}
	ins(g)
	ins(&database.GroupMember{GroupID: g.ID, UserID: ann.ID})
	common := &database.Label{DepartmentID: d.ID, Name: "Common", Color: "#c0392b"}
	rare := &database.Label{DepartmentID: d.ID, Name: "Rare", Color: "#2e86c1"}
	ins(common)
	ins(rare)
	names := []struct{ family, given string }{
		{"Müller", "Anna"}, {"Muller-Lang", "Emma"}, {"Nowak", "Emma"}, {"Marten", "Kim"}, {"Schäfer", "Anna"},
	}
	var pats []*database.Patient
	for i, n := range names {
		for _, dept := range []*database.Department{d, o} {
			p := &database.Patient{DepartmentID: dept.ID, PatientID: fmt.Sprintf("R%d-%d", dept.ID, i), FamilyName: n.family, GivenName: n.given}
			ins(p)
			if dept == d {
				pats = append(pats, p)
			}
		}
	}
	// 150 studies in the department (and a few in the other one that carry
	// no label of theirs): dates repeat, some are missing, so the order
	// leans on the id as often as on the date. Label Common for ann on 2 in
	// 3, also for her group on every 4th (a study labelled twice); Rare for
	// the group on every 11th.
	for i := 0; i < 150; i++ {
		var day *time.Time
		if i%13 != 0 {
			t := time.Date(2025, time.Month(1+i%4), 1+i%7, 0, 0, 0, 0, time.UTC)
			day = &t
		}
		p := pats[(i*7)%len(pats)]
		s := &database.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: fmt.Sprintf("8.8.%d", i), StudyDate: day,
			Accession: fmt.Sprintf("RA%03d", i), Modalities: []string{[]string{"CT", "MR", "US"}[i%3]}, ReportStatus: []string{"none", "final"}[i%2]}
		ins(s)
		if i%3 != 0 {
			ins(&database.StudyLabel{StudyID: s.ID, LabelID: common.ID, UserID: &ann.ID})
		}
		if i%4 == 0 {
			ins(&database.StudyLabel{StudyID: s.ID, LabelID: common.ID, GroupID: &g.ID})
		}
		if i%11 == 0 {
			ins(&database.StudyLabel{StudyID: s.ID, LabelID: rare.ID, GroupID: &g.ID})
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	// reference is every study of u's department that carries one of the
	// labels for u or u's group and has every word, in list order.
	reference := func(u *database.User, f Filter) []int64 {
		q := db.NewSelect().TableExpr("studies AS s").ColumnExpr("s.id").
			Where("s.department_id = ?", *u.DepartmentID).
			Where(`EXISTS (SELECT 1 FROM study_labels sl WHERE sl.study_id = s.id AND sl.label_id IN (?)
				AND (sl.user_id = ? OR sl.group_id IN (SELECT group_id FROM group_members WHERE user_id = ?)))`,
				bun.In(f.LabelIDs), u.ID, u.ID)
		for _, tok := range Tokens(f.Query) {
			q = q.Where("s.search LIKE '%' || rp_fold(?) || '%'", database.EscapeLike(tok))
		}
		if f.Modality != "" {
			q = q.Where("? = ANY(s.modalities)", f.Modality)
		}
		if f.Report == ReportYes {
			q = q.Where("s.report_status <> 'none'")
		}
		var ids []int64
		if err := q.OrderExpr("s.study_date DESC NULLS LAST, s.id DESC").Scan(ctx, &ids); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	// pages follows the Next cursors of find under lim to the end.
	pages := func(u *database.User, f Filter, lim limits, ran map[strategy]int) []int64 {
		var ids []int64
		for page := 0; page < 200; page++ {
			r, err := find(ctx, db, u, f, lim)
			if err != nil {
				t.Fatal(err)
			}
			ran[r.st]++
			rows := r.rows
			more := len(rows) > r.limit
			if more {
				rows = rows[:r.limit]
			}
			for _, x := range rows {
				ids = append(ids, x.ID)
			}
			if !more {
				return ids
			}
			f.After = rows[len(rows)-1].Cursor()
		}
		t.Fatal("pages do not end")
		return nil
	}
	// forced runs every page with strategy st (n: budget entries or the
	// candidates cap); a budget walk that does not fill its page, or a
	// candidate list that is cut, gives way to sorted, as in find.
	forced := func(u *database.User, f Filter, st strategy, n int) []int64 {
		var ids []int64
		f.viewer = u.ID
		for page := 0; page < 200; page++ {
			r, rows, _ := forcedPage(t, db, u, f, st, n)
			limit := r.limit
			more := len(rows) > limit
			if more {
				rows = rows[:limit]
			}
			for _, x := range rows {
				ids = append(ids, x.ID)
			}
			if !more {
				return ids
			}
			f.After = rows[len(rows)-1].Cursor()
		}
		t.Fatal("pages do not end")
		return nil
	}
	ran := map[strategy]int{}
	nonEmpty := 0
	for _, u := range []*database.User{ann, bob} {
		for _, labels := range [][]int64{{common.ID}, {rare.ID}, {common.ID, rare.ID}} {
			for _, f := range []Filter{
				{Query: "muller"},       // two families, one is part of a name
				{Query: "müller, anna"}, // two words
				{Query: "emma"},
				{Query: "mar", Modality: "CT"},
				{Query: "a", Report: ReportYes},
				{Query: "RA007"}, // an accession: exact
				{Query: "zzz"},
			} {
				f.LabelIDs = labels
				want := reference(u, f)
				if len(want) > 0 {
					nonEmpty++
				}
				// Each strategy forced (exact is not a general one).
				for _, st := range []struct {
					st strategy
					n  int
				}{{walk, 0}, {sorted, 0}, {intersect, 0}, {budget, 3}, {budget, 40}, {budget, 1000}, {listed, 2}, {listed, 1000}, {collect, 1000}} {
					if f.Query == "RA007" {
						break
					}
					for _, size := range []int{2, 5} {
						g := f
						g.Limit = size
						if got := forced(u, g, st.st, st.n); !slices.Equal(got, want) {
							t.Fatalf("%s %+v, strategy %d (%d), pages of %d:\n got %v\nwant %v", u.Username, f, st.st, st.n, size, got, want)
						}
					}
				}
				// And what Search runs.
				for _, lim := range []limits{
					defaults,
					{few: 2, budget: walkBudget, labelSort: 3}, // labels many, names not few
					{few: 2, budget: 5, labelSort: 3},          // budget walks that fail
					{few: 0, budget: 0, labelSort: 0},          // only the fallbacks
					{few: 500, budget: 30, labelSort: 3},
				} {
					for _, size := range []int{3, 7} {
						g := f
						g.Limit = size
						if got := pages(u, g, lim, ran); !slices.Equal(got, want) {
							t.Fatalf("%s %+v, limits %+v, pages of %d:\n got %v\nwant %v", u.Username, f, lim, size, got, want)
						}
					}
				}
			}
		}
	}
	if nonEmpty < 10 {
		t.Fatalf("only %d cases have matches: the data does not test much", nonEmpty)
	}
	for _, st := range []strategy{listed, collect, budget, intersect, walk, exact} {
		if ran[st] == 0 {
			t.Errorf("strategy %d never served a page (ran %v): the limits do not reach it", st, ran)
		}
	}
}
