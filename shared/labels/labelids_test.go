package labels_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// labelIDs is studies.label_ids of study id.
func labelIDs(t *testing.T, db bun.IDB, id int64) []int64 {
	t.Helper()
	var ids []int64
	if err := db.NewRaw("SELECT label_ids FROM studies WHERE id = ?", id).Scan(context.Background(), pgdialect.Array(&ids)); err != nil {
		t.Fatal(err)
	}
	return ids
}

// exact fails unless every study's label_ids is the sorted set of the
// labels in its study_labels rows.
func exact(t *testing.T, db bun.IDB) {
	t.Helper()
	var wrong []int64
	err := db.NewRaw(`SELECT s.id FROM studies s
		WHERE s.label_ids IS DISTINCT FROM coalesce((SELECT array_agg(DISTINCT sl.label_id ORDER BY sl.label_id)
			FROM study_labels sl WHERE sl.study_id = s.id), '{}')`).Scan(context.Background(), &wrong)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Fatalf("label_ids differs from study_labels for studies %v", wrong)
	}
}

// studies.label_ids (the study list's label bitmap) follows every change of
// study_labels: adds, removals, a label on a study twice (for a user and a
// group), a label or group deleted (rows gone by cascade), rows moved by
// UPDATE and many rows at once.
func TestLabelIDsFollowStudyLabels(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "LIDS")
	admin := testserver.MustUser(t, db, "lids.admin", database.RoleAdmin, dept)
	actor := audit.Staff(admin, "127.0.0.1")
	g := &database.Group{DepartmentID: dept.ID, Name: "Team"}
	if _, err := db.NewInsert().Model(g).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewInsert().Model(&database.GroupMember{GroupID: g.ID, UserID: admin.ID}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	var st [4]*database.Study
	for i := range st {
		st[i] = testserver.MustPatientStudy(t, db, dept, fmt.Sprintf("L%d", i), "Lids", "Ann", nil)
	}
	var lb [3]*database.Label
	for i := range lb {
		l, err := labels.Create(ctx, db, actor, dept.ID, fmt.Sprintf("L%d", i), labels.Palette[i].Hex)
		if err != nil {
			t.Fatal(err)
		}
		lb[i] = l
	}
	me := labels.Target{UserID: &admin.ID}
	team := labels.Target{GroupID: &g.ID}
	add := func(s, l int, tg labels.Target) func() error {
		return func() error { return labels.AddToStudy(ctx, db, actor, st[s].ID, lb[l].ID, tg) }
	}
	// remove takes off the row of label l on study s for the group (group)
	// or the user.
	remove := func(s, l int, group bool) func() error {
		return func() error {
			var id int64
			q := db.NewSelect().Table("study_labels").Column("id").Where("study_id = ? AND label_id = ?", st[s].ID, lb[l].ID)
			if group {
				q = q.Where("group_id IS NOT NULL")
			} else {
				q = q.Where("user_id IS NOT NULL")
			}
			if err := q.Scan(ctx, &id); err != nil {
				return err
			}
			return labels.RemoveFromStudy(ctx, db, actor, st[s].ID, id)
		}
	}
	sql := func(q string, args ...any) func() error {
		return func() error { _, err := db.ExecContext(ctx, q, args...); return err }
	}
	L := func(is ...int) []int64 {
		out := []int64{}
		for _, i := range is {
			out = append(out, lb[i].ID)
		}
		slices.Sort(out)
		return out
	}
	for _, step := range []struct {
		name string
		do   func() error
		want [4][]int64
	}{
		{"add", add(0, 0, me), [4][]int64{L(0), L(), L(), L()}},
		{"same label for the group", add(0, 0, team), [4][]int64{L(0), L(), L(), L()}},
		{"second label", add(0, 1, me), [4][]int64{L(0, 1), L(), L(), L()}},
		{"other study", add(1, 1, team), [4][]int64{L(0, 1), L(1), L(), L()}},
		{"remove one of two rows of a label", remove(0, 0, false), [4][]int64{L(0, 1), L(1), L(), L()}},
		{"remove its last row", remove(0, 0, true), [4][]int64{L(1), L(1), L(), L()}},
		{"third label", add(1, 2, me), [4][]int64{L(1), L(1, 2), L(), L()}},
		{"label deleted", func() error { return labels.Delete(ctx, db, actor, lb[1].ID) }, [4][]int64{L(), L(2), L(), L()}},
		{"row moved to another study", sql("UPDATE study_labels SET study_id = ? WHERE study_id = ?", st[2].ID, st[1].ID), [4][]int64{L(), L(), L(2), L()}},
		{"row changes label", sql("UPDATE study_labels SET label_id = ? WHERE study_id = ?", lb[0].ID, st[2].ID), [4][]int64{L(), L(), L(0), L()}},
		{"many rows at once", sql("INSERT INTO study_labels (study_id, label_id, group_id) SELECT id, ?, ? FROM studies", lb[2].ID, g.ID), [4][]int64{L(2), L(2), L(0, 2), L(2)}},
		{"group deleted", sql("DELETE FROM groups WHERE id = ?", g.ID), [4][]int64{L(), L(), L(0), L()}},
		{"study deleted", sql("DELETE FROM studies WHERE id = ?", st[2].ID), [4][]int64{L(), L(), nil, L()}},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		for i, want := range step.want {
			if want == nil {
				continue
			}
			if got := labelIDs(t, db, st[i].ID); !slices.Equal(got, want) {
				t.Fatalf("%s: study %d has label_ids %v, want %v", step.name, i, got, want)
			}
		}
		exact(t, db)
	}
}

// Labels put on one study at the same moment by several requests all end up
// in its label_ids: each request's trigger waits for the study row the one
// before it holds, then counts that one's committed label too. Here every
// add has inserted its row and waits behind an open transaction that
// labelled the study as well (the interleaving made certain), then all run.
func TestLabelIDsParallelAdds(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "LPAR")
	admin := testserver.MustUser(t, db, "lpar.admin", database.RoleAdmin, dept)
	actor := audit.Staff(admin, "127.0.0.1")
	st := testserver.MustPatientStudy(t, db, dept, "P1", "Par", "Ann", nil)
	const n = 6
	var want []int64
	var lb []*database.Label
	for i := 0; i <= n; i++ {
		l, err := labels.Create(ctx, db, actor, dept.ID, fmt.Sprintf("P%d", i), labels.Palette[i%len(labels.Palette)].Hex)
		if err != nil {
			t.Fatal(err)
		}
		lb = append(lb, l)
		want = append(want, l.ID)
	}
	slices.Sort(want)
	blocker, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	if _, err := blocker.ExecContext(ctx, "INSERT INTO study_labels (study_id, label_id, user_id) VALUES (?, ?, ?)", st.ID, lb[n].ID, admin.ID); err != nil {
		t.Fatal(err)
	}
	var calls []func() error
	for i := 0; i < n; i++ {
		calls = append(calls, func() error {
			return labels.AddToStudy(ctx, db, actor, st.ID, lb[i].ID, labels.Target{UserID: &admin.ID})
		})
	}
	for i, err := range testdb.Behind(t, db, blocker, calls...) {
		if err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	if got := labelIDs(t, db, st.ID); !slices.Equal(got, want) {
		t.Fatalf("label_ids %v, want %v", got, want)
	}
	exact(t, db)

	// And free-running: each label taken off and put back at once.
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, errs[i] = db.ExecContext(ctx, "DELETE FROM study_labels WHERE study_id = ? AND label_id = ?", st.ID, lb[i].ID); errs[i] == nil {
				errs[i] = labels.AddToStudy(ctx, db, actor, st.ID, lb[i].ID, labels.Target{UserID: &admin.ID})
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	if got := labelIDs(t, db, st.ID); !slices.Equal(got, want) {
		t.Fatalf("after the free run: label_ids %v, want %v", got, want)
	}
	exact(t, db)
}
