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

// "Contains labels" gives the same pages whichever way it runs (collected
// from the label index and listed, sorted, or the date walk), and keeps only
// the studies whose label is set for the user or one of their groups.
func TestLabelFilterStrategies(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	ins := func(v any) {
		t.Helper()
		if _, err := db.NewInsert().Model(v).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	d := &store.Department{Code: "LBL", Name: "Labels", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	o := &store.Department{Code: "OTHER", Name: "Other", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	ins(d)
	ins(o)
	mk := func(name string, dept *store.Department) *store.User {
		u := &store.User{Username: name, Role: store.RoleStaff, DepartmentID: &dept.ID, PasswordHash: "x"}
		ins(u)
		return u
	}
	ann, bob, eve := mk("ann", d), mk("bob", d), mk("eve", o)
	g := &store.Group{DepartmentID: d.ID, Name: "Team"}
	ins(g)
	ins(&store.GroupMember{GroupID: g.ID, UserID: bob.ID})
	l1 := &store.Label{DepartmentID: d.ID, Name: "One", Color: "#c0392b"}
	l2 := &store.Label{DepartmentID: d.ID, Name: "Two", Color: "#2e86c1"}
	ins(l1)
	ins(l2)
	p := &store.Patient{DepartmentID: d.ID, PatientID: "P", FamilyName: "Müller", GivenName: "Kim"}
	ins(p)
	// 40 studies; label One for ann on every third, for the group on every
	// fifth; label Two for ann on the 7th only.
	want := map[string][]int64{}
	for i := 0; i < 40; i++ {
		var day *time.Time
		if i%9 != 0 {
			t := time.Date(2026, 1, 1+i%20, 0, 0, 0, 0, time.UTC)
			day = &t
		}
		s := &store.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: fmt.Sprintf("9.9.%d", i), StudyDate: day,
			Accession: fmt.Sprintf("L%03d", i), Modalities: []string{"CT"}, ReportStatus: "none"}
		ins(s)
		if i%3 == 0 {
			ins(&store.StudyLabel{StudyID: s.ID, LabelID: l1.ID, UserID: &ann.ID})
			want["ann:1"] = append(want["ann:1"], s.ID)
		}
		if i%5 == 0 {
			ins(&store.StudyLabel{StudyID: s.ID, LabelID: l1.ID, GroupID: &g.ID})
			want["bob:1"] = append(want["bob:1"], s.ID)
		}
		if i == 7 {
			ins(&store.StudyLabel{StudyID: s.ID, LabelID: l2.ID, UserID: &ann.ID})
			want["ann:2"] = append(want["ann:2"], s.ID)
			want["ann:1,2"] = append(want["ann:1,2"], s.ID)
		}
		if i%3 == 0 {
			want["ann:1,2"] = append(want["ann:1,2"], s.ID)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	// all pages of f for u under lim, and the strategies that ran.
	all := func(u *store.User, f Filter, lim limits) ([]int64, map[strategy]bool) {
		var ids []int64
		ran := map[strategy]bool{}
		for page := 0; page < 40; page++ {
			f.viewer = u.ID
			r, err := find(ctx, db, u, f, lim)
			if err != nil {
				t.Fatal(err)
			}
			ran[r.st] = true
			rows := r.rows
			if len(rows) > r.limit {
				rows = rows[:r.limit]
				for _, x := range rows {
					ids = append(ids, x.ID)
				}
				f.After = rows[len(rows)-1].Cursor()
				continue
			}
			for _, x := range rows {
				ids = append(ids, x.ID)
			}
			return ids, ran
		}
		t.Fatal("too many pages")
		return nil, nil
	}
	cases := []struct {
		key    string
		u      *store.User
		labels []int64
		query  string
	}{
		{"ann:1", ann, []int64{l1.ID}, ""},
		{"bob:1", bob, []int64{l1.ID}, ""},
		{"ann:2", ann, []int64{l2.ID}, ""},
		{"ann:1,2", ann, []int64{l1.ID, l2.ID}, ""},
		{"ann:1", ann, []int64{l1.ID}, "müller"},
		{"eve:1", eve, []int64{l1.ID}, ""}, // another department: nothing
	}
	for _, c := range cases {
		exp := slices.Clone(want[c.key])
		slices.Sort(exp)
		for _, lim := range []struct {
			name string
			lim  limits
			st   strategy
		}{{"listed", limits{500, walkBudget, labelSortCap}, listed}, {"sorted", limits{2, walkBudget, 100}, sorted}, {"walk", limits{2, walkBudget, 3}, walk}} {
			got, ran := all(c.u, Filter{LabelIDs: c.labels, Query: c.query, Limit: 4}, lim.lim)
			sorted := slices.Clone(got)
			slices.Sort(sorted)
			if !slices.Equal(sorted, exp) || len(got) != len(exp) {
				t.Errorf("%s %q via %s: %v, want %v", c.key, c.query, lim.name, got, exp)
			}
			if c.query == "" && len(exp) > 2 && !ran[lim.st] {
				t.Errorf("%s via %s: ran %v", c.key, lim.name, ran)
			}
		}
	}
	// Pages are in list order (date desc, id desc), the same as without the filter.
	got, _ := all(ann, Filter{LabelIDs: []int64{l1.ID}, Limit: 4}, defaults)
	plain, _ := all(ann, Filter{Limit: 100}, defaults)
	var order []int64
	for _, id := range plain {
		if slices.Contains(want["ann:1"], id) {
			order = append(order, id)
		}
	}
	if !slices.Equal(got, order) {
		t.Errorf("filtered order %v, want %v", got, order)
	}
}
