package users_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/users"
)

func TestValidate(t *testing.T) {
	dept := int64(1)
	ok := func() users.New {
		return users.New{Username: "ann", Role: database.RoleStaff, DepartmentID: &dept, Password: "long-enough-pw"}
	}
	for _, c := range []struct {
		name  string
		edit  func(*users.New)
		field string
	}{
		{"fine", func(*users.New) {}, ""},
		{"no username", func(n *users.New) { n.Username = "" }, "username"},
		{"capitals", func(n *users.New) { n.Username = "Ann" }, "username"},
		{"one letter", func(n *users.New) { n.Username = "a" }, "username"},
		{"bad role", func(n *users.New) { n.Role = "root" }, "role"},
		{"staff without department", func(n *users.New) { n.DepartmentID = nil }, "department"},
		{"service desk with department", func(n *users.New) { n.Role = database.RoleServiceDesk }, "department"},
		{"language", func(n *users.New) { n.Language = "xx" }, "language"},
		{"short password", func(n *users.New) { n.Password = "short" }, "password"},
		{"email", func(n *users.New) { n.Email = "a@" }, "email"},
	} {
		n := ok()
		c.edit(&n)
		v := n.Validate()
		switch {
		case c.field == "" && len(v) != 0:
			t.Errorf("%s: %v", c.name, v)
		case c.field != "" && (len(v) == 0 || v[0].Field != c.field):
			t.Errorf("%s: %v, want a problem on %s", c.name, v, c.field)
		}
	}
}

func TestMayManage(t *testing.T) {
	a, b := int64(1), int64(2)
	staff := &database.User{Role: database.RoleStaff, DepartmentID: &a}
	admin := &database.User{Role: database.RoleAdmin, DepartmentID: &a}
	desk := &database.User{Role: database.RoleServiceDesk}
	for _, c := range []struct {
		u    *database.User
		d    *int64
		want bool
	}{{staff, &a, false}, {admin, &a, true}, {admin, &b, false}, {admin, nil, false}, {desk, &b, true}, {nil, &a, false}} {
		if got := users.MayManage(c.u, c.d); got != c.want {
			t.Errorf("MayManage(%v, %v) = %v", c.u, c.d, got)
		}
	}
}

// EndSessions deletes exactly the staff sessions of one user, whatever
// else the sessions hold.
func TestEndSessions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	enc := func(v map[any]any) []byte {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(v); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	rows := []struct {
		id   string
		kind string
		v    map[any]any
	}{
		{"a1", "staff", map[any]any{"uid": int64(7), "print_refs": map[string]string{"x": "y"}, "at": time.Now()}},
		{"a2", "staff", map[any]any{"uid": int64(7)}},
		{"b1", "staff", map[any]any{"uid": int64(8), "ids": []int64{7}}},
		{"p1", "patient", map[any]any{"uid": int64(7)}},
		{"n1", "staff", map[any]any{}},
	}
	for _, r := range rows {
		if _, err := db.ExecContext(ctx, `INSERT INTO sessions (id_hash, kind, data, expires_at) VALUES (?, ?, ?, now() + interval '1 hour')`,
			[]byte(r.id), r.kind, enc(r.v)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sessions (id_hash, kind, data, expires_at) VALUES ('junk', 'staff', '\x00ff', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	n, err := users.EndSessions(ctx, db, 7)
	if err != nil || n != 2 {
		t.Fatalf("ended %d (%v), want 2", n, err)
	}
	var left []string
	if err := db.NewRaw(`SELECT convert_from(id_hash, 'UTF8') FROM sessions ORDER BY 1`).Scan(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 4 || left[0] != "b1" || left[1] != "junk" || left[2] != "n1" || left[3] != "p1" {
		t.Fatalf("left %v", left)
	}
}

// Groups: a member must be of the group's department; names are unique per
// department; every change is audited.
func TestGroups(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	a := testserver.MustDepartment(t, db, "DA")
	b := testserver.MustDepartment(t, db, "DB")
	admin := testserver.MustUser(t, db, "adam", database.RoleAdmin, a)
	ann := testserver.MustUser(t, db, "ann", database.RoleStaff, a)
	bea := testserver.MustUser(t, db, "bea", database.RoleStaff, b)
	act := audit.Staff(admin, "127.0.0.1")
	g, err := users.CreateGroup(ctx, db, act, a.ID, "  Night shift ")
	if err != nil || g.Name != "Night shift" {
		t.Fatalf("create: %v %v", g, err)
	}
	if _, err := users.CreateGroup(ctx, db, act, a.ID, "Night shift"); err == nil {
		t.Fatal("duplicate name accepted")
	}
	if _, err := users.CreateGroup(ctx, db, act, b.ID, "Elsewhere"); err == nil {
		t.Fatal("a group made in another department")
	}
	if err := users.AddMember(ctx, db, act, g.ID, ann.ID); err != nil {
		t.Fatal(err)
	}
	if err := users.AddMember(ctx, db, act, g.ID, ann.ID); err != nil {
		t.Fatal("adding twice:", err)
	}
	if err := users.AddMember(ctx, db, act, g.ID, bea.ID); err == nil {
		t.Fatal("a user of another department added")
	}
	m, err := users.Members(ctx, db, g)
	if err != nil || len(m) != 1 || m[0].ID != ann.ID {
		t.Fatalf("members %v %v", m, err)
	}
	if err := users.RemoveMember(ctx, db, act, g.ID, ann.ID); err != nil {
		t.Fatal(err)
	}
	if err := users.DeleteGroup(ctx, db, act, g.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if n, err = db.NewSelect().Table("audit_events").Where("actor_name = 'adam'").Count(ctx); err != nil || n != 4 {
		t.Fatalf("%d audit events (%v), want 4 (create, add, remove, delete)", n, err)
	}
}
