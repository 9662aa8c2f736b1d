package studies

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// "Contains labels" gives the same pages whichever way it runs (collected
// from the label index and listed, or the date walk with a hashed check),
// and keeps only the studies whose label is set for the user or one of
// their groups.
func TestLabelFilterStrategies(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	ins := inserter(t, db)
	d := &database.Department{Code: "LBL", Name: "Labels", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	o := &database.Department{Code: "OTHER", Name: "Other", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	ins(d)
	ins(o)
	mk := func(name string, dept *database.Department) *database.User {
		u := &database.User{Username: name, Role: database.RoleStaff, DepartmentID: &dept.ID, PasswordHash: "x"}
		ins(u)
		return u
	}
	ann, bob, eve := mk("ann", d), mk("bob", d), mk("eve", o)
	g := &database.Group{DepartmentID: d.ID, Name: "Team"}
	ins(g)
	ins(&database.GroupMember{GroupID: g.ID, UserID: bob.ID})
	l1 := &database.Label{DepartmentID: d.ID, Name: "One", Color: "#c0392b"}
	l2 := &database.Label{DepartmentID: d.ID, Name: "Two", Color: "#2e86c1"}
	ins(l1)
	ins(l2)
	p := &database.Patient{DepartmentID: d.ID, PatientID: "P", FamilyName: "Müller", GivenName: "Kim"}
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
		s := &database.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: fmt.Sprintf("9.9.%d", i), StudyDate: day,
			Accession: fmt.Sprintf("L%03d", i), Modalities: []string{"CT"}, ReportStatus: "none"}
		ins(s)
		if i%3 == 0 {
			ins(&database.StudyLabel{StudyID: s.ID, LabelID: l1.ID, UserID: &ann.ID})
			want["ann:1"] = append(want["ann:1"], s.ID)
		}
		if i%5 == 0 {
			ins(&database.StudyLabel{StudyID: s.ID, LabelID: l1.ID, GroupID: &g.ID})
			want["bob:1"] = append(want["bob:1"], s.ID)
		}
		if i == 7 {
			ins(&database.StudyLabel{StudyID: s.ID, LabelID: l2.ID, UserID: &ann.ID})
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
	all := func(u *database.User, f Filter, lim limits) ([]int64, map[strategy]bool) {
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
		u      *database.User
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
		}{{"listed", limits{500, walkBudget, labelSortCap}, listed}, {"listed-small-few", limits{2, walkBudget, 100}, listed}, {"walk", limits{2, walkBudget, 3}, walk}} {
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

// The label filter reads the study_labels_label index (an index-only scan),
// never the whole study_labels table. Heap fetches are not asserted: on a
// shared server another open transaction keeps VACUUM from marking the new
// rows all-visible.
func TestLabelFilterUsesItsIndex(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	ctx := context.Background()
	if _, err := seed.Bulk(ctx, dsn, 2000, nil); err != nil {
		t.Fatal(err)
	}
	var dept int64
	if err := db.NewRaw("SELECT min(id) FROM departments").Scan(ctx, &dept); err != nil {
		t.Fatal(err)
	}
	u := &database.User{Username: "labels", Role: database.RoleStaff, DepartmentID: &dept, PasswordHash: "x"}
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var labelIDs []int64
	for i, name := range []string{"a", "b", "c"} {
		l := &database.Label{DepartmentID: dept, Name: name, Color: "#c0392b"}
		if _, err := db.NewInsert().Model(l).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		labelIDs = append(labelIDs, l.ID)
		if _, err := db.ExecContext(ctx, `INSERT INTO study_labels (study_id, label_id, user_id)
			SELECT id, ?, ? FROM studies WHERE department_id = ? AND id % ? = 0`, l.ID, u.ID, dept, 2+i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE study_labels"); err != nil {
		t.Fatal(err)
	}
	f := Filter{LabelIDs: labelIDs[2:], viewer: u.ID}
	for _, c := range []struct {
		name string
		q    *bun.SelectQuery
	}{
		{"candidates", labelledQuery(db, f)},
		// The walk checks each index entry against a hash built once from
		// the label index (not a join, which would give up the index order).
		{"walk", func() *bun.SelectQuery {
			q, _, _, err := query(db, u, f, plan{st: walk})
			if err != nil {
				t.Fatal(err)
			}
			return q
		}()},
	} {
		var scans []node
		err := db.RunInTx(ctx, &sql.TxOptions{ReadOnly: true}, func(ctx context.Context, tx bun.Tx) error {
			for _, set := range []string{"SET LOCAL enable_seqscan = off", "SET LOCAL enable_bitmapscan = off"} {
				if _, err := tx.ExecContext(ctx, set); err != nil {
					return err
				}
			}
			var out string
			if err := tx.NewRaw("EXPLAIN (ANALYZE, FORMAT JSON) ?", c.q).Scan(ctx, &out); err != nil {
				return err
			}
			var plans []struct{ Plan node }
			if err := json.Unmarshal([]byte(out), &plans); err != nil {
				return err
			}
			scans = plans[0].Plan.find("study_labels_label")
			if c.name == "walk" && len(plans[0].Plan.find("studies_dept_walk")) != 1 {
				t.Errorf("walk: the date index studies_dept_walk is not walked")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(scans) == 0 {
			t.Fatalf("%s: the study_labels_label index is not used", c.name)
		}
		for _, s := range scans {
			if s.Type != "Index Only Scan" {
				t.Fatalf("%s: %s on study_labels_label; want an index-only scan", c.name, s.Type)
			}
		}
	}
}
