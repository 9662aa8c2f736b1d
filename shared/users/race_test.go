package users_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/users"
)

func notFound(err error) bool {
	var ae *apperr.Error
	return errors.As(err, &ae) && ae.Code == apperr.NotFound
}

// A group deleted while another request renames it, deletes it too or adds
// a member (all past their checks): the delete happens once and is audited
// once; the other request is NotFound, never a second "deleted" with a
// second event, a rename audited as a change to nothing, or a member added
// into the foreign key (a 500).
func TestGroupChangesRacingDelete(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "RACE")
	admin := testserver.MustUser(t, db, "race.admin", database.RoleAdmin, dept)
	member := testserver.MustUser(t, db, "race.member", database.RoleStaff, dept)
	actor := audit.Staff(admin, "127.0.0.1")
	for _, c := range []struct {
		name  string
		other func(id int64) error
	}{
		{"delete", func(id int64) error { return users.DeleteGroup(ctx, db, actor, id) }},
		{"rename", func(id int64) error { _, err := users.RenameGroup(ctx, db, actor, id, "Renamed"); return err }},
		{"add member", func(id int64) error { return users.AddMember(ctx, db, actor, id, member.ID) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := users.CreateGroup(ctx, db, actor, dept.ID, "Group "+c.name)
			if err != nil {
				t.Fatal(err)
			}
			blocker, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer blocker.Rollback()
			if _, err := blocker.NewRaw("SELECT id FROM groups WHERE id = ? FOR UPDATE", g.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			errs := testdb.Behind(t, db, blocker,
				func() error { return users.DeleteGroup(ctx, db, actor, g.ID) },
				func() error { return c.other(g.ID) })
			if errs[0] != nil || !notFound(errs[1]) {
				t.Errorf("delete: %v; %s after it: %v, want NotFound", errs[0], c.name, errs[1])
			}
			var actions []string
			if err := db.NewRaw("SELECT action FROM audit_events WHERE details->>'group_id' = ? ORDER BY id", strconv.FormatInt(g.ID, 10)).
				Scan(ctx, &actions); err != nil {
				t.Fatal(err)
			}
			if len(actions) != 2 || actions[0] != audit.GroupCreate || actions[1] != audit.GroupDelete {
				t.Errorf("trail %v, want create and one delete", actions)
			}
		})
	}
}

// Disabling a disabled user (what a double click or two admins at once
// send) changes nothing and writes no second event; enabling likewise.
func TestSetDisabledTwice(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "TWICE")
	admin := testserver.MustUser(t, db, "twice.admin", database.RoleAdmin, dept)
	target := testserver.MustUser(t, db, "twice.staff", database.RoleStaff, dept)
	actor := audit.Staff(admin, "127.0.0.1")
	for _, step := range []bool{true, true, false, false, true} {
		u, err := users.SetDisabled(ctx, db, actor, target.ID, step)
		if err != nil || u.Disabled != step {
			t.Fatalf("SetDisabled(%v): %v, disabled %v", step, err, u != nil && u.Disabled)
		}
	}
	var actions []string
	if err := db.NewRaw("SELECT action FROM audit_events WHERE details->>'user_id' = ? ORDER BY id", strconv.FormatInt(target.ID, 10)).
		Scan(ctx, &actions); err != nil {
		t.Fatal(err)
	}
	want := []string{audit.UserDisable, audit.UserEnable, audit.UserDisable}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("trail %v, want %v", actions, want)
	}
}

// A taken username is refused before the password is hashed: each hash
// holds 64 MiB and a hash slot, too dear to spend on a name the unique
// index refuses anyway.
//
// Not parallel: the hash count is process-wide.
func TestCreateTakenNameHashesNothing(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "TAKEN")
	testserver.MustUser(t, db, "taken.ann", database.RoleStaff, dept)
	before, _ := auth.HashStats()
	_, err := users.Create(ctx, db, audit.Actor{}, users.New{Username: "taken.ann", Role: database.RoleStaff,
		DepartmentID: &dept.ID, Password: "long-enough-password"})
	if v, ok := users.AsInvalid(err); !ok || len(v) != 1 || v[0].Key != "users.error.username.taken" {
		t.Fatalf("create a taken name: %v", err)
	}
	if after, _ := auth.HashStats(); after != before {
		t.Fatalf("%d password hashes for a taken name, want none", after-before)
	}
}
