package users

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
)

// MaxGroupName is the longest group name (the schema's check).
const MaxGroupName = 100

// checkGroupName trims and validates a group name.
func checkGroupName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", Invalid{apperr.Field("name", "groups.error.name.required")}
	case n > MaxGroupName:
		return "", Invalid{apperr.Field("name", "users.error.toolong", "Max", MaxGroupName)}
	}
	return name, nil
}

// Groups lists the groups of department dept by name.
func Groups(ctx context.Context, db bun.IDB, dept int64) ([]database.Group, error) {
	var out []database.Group
	return out, db.NewSelect().Model(&out).Where("department_id = ?", dept).OrderExpr("lower(name), id").Scan(ctx)
}

// GroupsOf lists the groups user id belongs to.
func GroupsOf(ctx context.Context, db bun.IDB, id int64) ([]database.Group, error) {
	var out []database.Group
	return out, db.NewSelect().Model(&out).
		Where("id IN (SELECT group_id FROM group_members WHERE user_id = ?)", id).OrderExpr("lower(name), id").Scan(ctx)
}

// GetGroup returns group id if actor may manage it (NotFound otherwise).
func GetGroup(ctx context.Context, db bun.IDB, actor *database.User, id int64) (*database.Group, error) {
	if actor == nil || (!actor.IsAdmin() && !actor.IsServiceDesk()) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	g := new(database.Group)
	err := db.NewSelect().Model(g).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !MayManage(actor, &g.DepartmentID)) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	return g, err
}

// Members lists the users of group g by username.
func Members(ctx context.Context, db bun.IDB, g *database.Group) ([]database.User, error) {
	var out []database.User
	return out, db.NewSelect().Model(&out).
		Where("id IN (SELECT user_id FROM group_members WHERE group_id = ?)", g.ID).OrderExpr("username").Scan(ctx)
}

// CreateGroup makes a group in department dept.
func CreateGroup(ctx context.Context, db bun.IDB, actor audit.Actor, dept int64, name string) (*database.Group, error) {
	if !MayManage(actor.User, &dept) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	name, err := checkGroupName(name)
	if err != nil {
		return nil, err
	}
	g := &database.Group{DepartmentID: dept, Name: name}
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(g).Exec(ctx); err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.GroupCreate, &dept, map[string]any{"group_id": g.ID, "name": g.Name})
	})
	if database.IsUniqueViolation(err) {
		return nil, Invalid{apperr.Field("name", "groups.error.name.taken")}
	}
	return g, err
}

// RenameGroup renames group id.
func RenameGroup(ctx context.Context, db bun.IDB, actor audit.Actor, id int64, name string) (*database.Group, error) {
	g, err := GetGroup(ctx, db, actor.User, id)
	if err != nil {
		return nil, err
	}
	name, err = checkGroupName(name)
	if err != nil {
		return nil, err
	}
	var old string
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockGroup(ctx, tx, g, "UPDATE"); err != nil {
			return err
		}
		old = g.Name
		if _, err := tx.NewUpdate().Model(g).Set("name = ?", name).WherePK().Exec(ctx); err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.GroupUpdate, &g.DepartmentID, map[string]any{"group_id": g.ID, "from": old, "to": name})
	})
	if database.IsUniqueViolation(err) {
		return nil, Invalid{apperr.Field("name", "groups.error.name.taken")}
	}
	if err != nil {
		return nil, err
	}
	g.Name = name
	return g, nil
}

// lockGroup reloads g inside tx under a row lock of strength ("UPDATE",
// "KEY SHARE"); NotFound when the group was deleted after the caller's
// check (two deletes at once, a rename or a new member racing a delete).
func lockGroup(ctx context.Context, tx bun.Tx, g *database.Group, strength string) error {
	err := tx.NewSelect().Model(g).WherePK().For(strength).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
	return err
}

// DeleteGroup deletes group id; its memberships and the labels set for it go
// with it (ON DELETE CASCADE).
func DeleteGroup(ctx context.Context, db bun.IDB, actor audit.Actor, id int64) error {
	g, err := GetGroup(ctx, db, actor.User, id)
	if err != nil {
		return err
	}
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockGroup(ctx, tx, g, "UPDATE"); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(g).WherePK().Exec(ctx); err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.GroupDelete, &g.DepartmentID, map[string]any{"group_id": g.ID, "name": g.Name})
	})
}

// AddMember puts user uid into group gid; both must be of the same
// department. Adding a member twice is a no-op (still audited once).
func AddMember(ctx context.Context, db bun.IDB, actor audit.Actor, gid, uid int64) error {
	g, err := GetGroup(ctx, db, actor.User, gid)
	if err != nil {
		return err
	}
	u, err := Get(ctx, db, actor.User, uid)
	if err != nil {
		return err
	}
	if u.DepartmentID == nil || *u.DepartmentID != g.DepartmentID {
		return Invalid{apperr.Field("user", "groups.error.member.department")}
	}
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockGroup(ctx, tx, g, "KEY SHARE"); err != nil {
			return err
		}
		res, err := tx.NewInsert().Model(&database.GroupMember{GroupID: g.ID, UserID: u.ID}).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return actor.Record(ctx, tx, audit.GroupMemberAdd, &g.DepartmentID,
			map[string]any{"group_id": g.ID, "user_id": u.ID, "username": u.Username})
	})
}

// RemoveMember takes user uid out of group gid.
func RemoveMember(ctx context.Context, db bun.IDB, actor audit.Actor, gid, uid int64) error {
	g, err := GetGroup(ctx, db, actor.User, gid)
	if err != nil {
		return err
	}
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*database.GroupMember)(nil)).Where("group_id = ? AND user_id = ?", g.ID, uid).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "error.notfound")
		}
		return actor.Record(ctx, tx, audit.GroupMemberRemove, &g.DepartmentID, map[string]any{"group_id": g.ID, "user_id": uid})
	})
}
