// Package users holds the rules for staff accounts and groups: who may
// create, disable, enable and reset whom, validation, password hashing
// (argon2id through shared/auth), and the end of a disabled user's sessions.
// The staff pages and `radpass user add` both call it; every change is one
// transaction with its audit event.
package users

import (
	"context"
	"database/sql"
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
)

// UsernameRE is the users.username check of the schema.
var UsernameRE = regexp.MustCompile(`^[a-z0-9._@-]{2,64}$`)

// Limits of the free-text fields.
const (
	MaxDisplayName = 200
	MaxPassword    = 1024
)

// Roles in the order forms offer them.
var Roles = []string{database.RoleStaff, database.RoleAdmin, database.RoleServiceDesk}

// Invalid lists the problems of a form, each bound to its field.
type Invalid = apperr.Fields

// AsInvalid returns the field problems in err, if it is an Invalid.
func AsInvalid(err error) (Invalid, bool) { return apperr.AsFields(err) }

// New is a user to create.
type New struct {
	Username     string
	DisplayName  string
	Email        string
	Role         string
	Language     string // "" = the browser's
	DepartmentID *int64 // nil for the service desk
	Password     string
	// MustChange makes the user choose a new password at first sign-in
	// (accounts an admin creates with a starting password).
	MustChange bool
}

// Normalize trims the fields and lowercases the username.
func (n *New) Normalize() {
	n.Username = strings.ToLower(strings.TrimSpace(n.Username))
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	n.Email = strings.TrimSpace(n.Email)
}

// Validate checks n without the database; the returned Invalid is empty when
// everything is fine.
func (n *New) Validate() Invalid {
	var v Invalid
	switch {
	case n.Username == "":
		v.Add("username", "users.error.username.required")
	case !UsernameRE.MatchString(n.Username):
		v.Add("username", "users.error.username.format")
	}
	if utf8.RuneCountInString(n.DisplayName) > MaxDisplayName {
		v.Add("display_name", "users.error.toolong", "Max", MaxDisplayName)
	}
	if n.Email != "" {
		a, err := mail.ParseAddress(n.Email)
		if err != nil || a.Address != n.Email || len(n.Email) > 254 {
			v.Add("email", "users.error.email")
		}
	}
	switch n.Role {
	case database.RoleStaff, database.RoleAdmin:
		if n.DepartmentID == nil {
			v.Add("department", "users.error.department.required")
		}
	case database.RoleServiceDesk:
		if n.DepartmentID != nil {
			v.Add("department", "users.error.department.servicedesk")
		}
	default:
		v.Add("role", "users.error.role")
	}
	if n.Language != "" && !i18n.Valid(n.Language) {
		v.Add("language", "users.error.language")
	}
	if e := CheckPassword(n.Password); e != nil {
		v = append(v, e)
	}
	return v
}

// CheckPassword applies the password rules (length); nil when fine.
func CheckPassword(pw string) *apperr.Error {
	switch n := utf8.RuneCountInString(pw); {
	case n < auth.MinPasswordLength:
		return apperr.Field("password", "users.error.password.short", "Min", auth.MinPasswordLength)
	case len(pw) > MaxPassword:
		return apperr.Field("password", "users.error.password.long", "Max", MaxPassword)
	}
	return nil
}

// MayManage reports whether actor may administer accounts and groups of
// department dept: department admins their own, the service desk all.
func MayManage(actor *database.User, dept *int64) bool {
	switch {
	case actor == nil:
		return false
	case actor.IsServiceDesk():
		return true
	case actor.IsAdmin():
		return dept != nil && actor.DepartmentID != nil && *dept == *actor.DepartmentID
	}
	return false
}

// Create validates, hashes the password and stores the user with its audit
// event. A web actor must be an admin of the new user's department (who may
// not create service desk accounts) or the service desk; the command line
// (actor.User nil) may create anything.
func Create(ctx context.Context, db bun.IDB, actor audit.Actor, n New) (*database.User, error) {
	n.Normalize()
	if a := actor.User; a != nil {
		if !a.IsAdmin() && !a.IsServiceDesk() {
			return nil, apperr.New(apperr.Forbidden, "error.forbidden")
		}
		if n.Role == database.RoleServiceDesk && !a.IsServiceDesk() {
			return nil, Invalid{apperr.Field("role", "users.error.role")}
		}
	}
	if v := n.Validate(); len(v) > 0 {
		return nil, v
	}
	if a := actor.User; a != nil {
		if n.DepartmentID != nil && !MayManage(a, n.DepartmentID) {
			return nil, apperr.New(apperr.NotFound, "error.notfound")
		}
	}
	if n.DepartmentID != nil {
		ok, err := db.NewSelect().Model((*database.Department)(nil)).Where("id = ?", *n.DepartmentID).Exists(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, Invalid{apperr.Field("department", "users.error.department.required")}
		}
	}
	// A taken name is answered before the password is hashed (64 MiB and a
	// hash slot each); the unique index below still decides a race.
	taken, err := db.NewSelect().Model((*database.User)(nil)).Where("username = ?", n.Username).Exists(ctx)
	if err != nil {
		return nil, err
	}
	if taken {
		return nil, Invalid{apperr.Field("username", "users.error.username.taken")}
	}
	hash, err := auth.HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	u := &database.User{Username: n.Username, DisplayName: n.DisplayName, Email: n.Email, Role: n.Role,
		Language: n.Language, DepartmentID: n.DepartmentID, PasswordHash: hash, MustChangePassword: n.MustChange}
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.UserCreated, u.DepartmentID,
			map[string]any{"user_id": u.ID, "username": u.Username, "role": u.Role})
	})
	if database.IsUniqueViolation(err) {
		return nil, Invalid{apperr.Field("username", "users.error.username.taken")}
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Get returns user id if actor may manage it; another department's user (or
// one that does not exist) is NotFound, a plain staff actor Forbidden.
func Get(ctx context.Context, db bun.IDB, actor *database.User, id int64) (*database.User, error) {
	if actor == nil || (!actor.IsAdmin() && !actor.IsServiceDesk()) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	u := new(database.User)
	err := db.NewSelect().Model(u).Relation("Department").Where("?TableAlias.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	if err != nil {
		return nil, err
	}
	if !mayManageUser(actor, u) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	return u, nil
}

// mayManageUser: admins manage their department's accounts (not the service
// desk's, which have none); the service desk manages all.
func mayManageUser(actor, u *database.User) bool {
	if actor.IsServiceDesk() {
		return true
	}
	return u.DepartmentID != nil && MayManage(actor, u.DepartmentID)
}

// List returns the users of department dept (nil: every user; the service
// desk only), by username.
func List(ctx context.Context, db bun.IDB, actor *database.User, dept *int64) ([]database.User, error) {
	if dept == nil && (actor == nil || !actor.IsServiceDesk()) || dept != nil && !MayManage(actor, dept) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	var out []database.User
	q := db.NewSelect().Model(&out).Relation("Department").OrderExpr("?TableAlias.username")
	if dept != nil {
		q = q.Where("?TableAlias.department_id = ?", *dept)
	}
	return out, q.Scan(ctx)
}

// SetDisabled disables (or enables) user id. Disabling ends the user's
// sessions at once (their rows are deleted; the staff session middleware
// also refuses a disabled account on its next request). Nobody disables themselves. The state it
// already has changes nothing and writes no event.
func SetDisabled(ctx context.Context, db bun.IDB, actor audit.Actor, id int64, disabled bool) (*database.User, error) {
	u, err := Get(ctx, db, actor.User, id)
	if err != nil {
		return nil, err
	}
	if disabled && actor.User != nil && actor.User.ID == u.ID {
		return nil, apperr.New(apperr.Conflict, "users.error.disableself")
	}
	action := audit.UserEnable
	if disabled {
		action = audit.UserDisable
	}
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		// Under the row lock: a user already in that state (a double click,
		// two admins at once) is left alone, with no second event.
		var was bool
		if err := tx.NewSelect().Model((*database.User)(nil)).Column("disabled").Where("id = ?", u.ID).For("UPDATE").Scan(ctx, &was); err != nil {
			return err
		}
		if was == disabled {
			return nil
		}
		if _, err := tx.NewUpdate().Model(u).Set("disabled = ?", disabled).WherePK().Exec(ctx); err != nil {
			return err
		}
		n := 0
		if disabled {
			if n, err = EndSessions(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		return actor.Record(ctx, tx, action, u.DepartmentID,
			map[string]any{"user_id": u.ID, "username": u.Username, "sessions_ended": n})
	})
	if err != nil {
		return nil, err
	}
	u.Disabled = disabled
	return u, nil
}

// ResetPassword sets a new password chosen by an admin (told to the user out
// of band): the user must change it at the next sign-in, and their current
// sessions end.
func ResetPassword(ctx context.Context, db bun.IDB, actor audit.Actor, id int64, password string) (*database.User, error) {
	u, err := Get(ctx, db, actor.User, id)
	if err != nil {
		return nil, err
	}
	if e := CheckPassword(password); e != nil {
		return nil, Invalid{e}
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(u).Set("password_hash = ?", hash).Set("must_change_password = true").WherePK().Exec(ctx); err != nil {
			return err
		}
		n, err := EndSessions(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.UserReset, u.DepartmentID,
			map[string]any{"user_id": u.ID, "username": u.Username, "sessions_ended": n})
	})
	if err != nil {
		return nil, err
	}
	u.MustChangePassword = true
	return u, nil
}

// ChangePassword is the user choosing their own new password (the forced
// change after a reset): it must differ from the current one; the "must
// change" mark is cleared.
func ChangePassword(ctx context.Context, db bun.IDB, userID int64, password, repeat, ip string) (*database.User, error) {
	u := new(database.User)
	if err := db.NewSelect().Model(u).Where("id = ?", userID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, apperr.New(apperr.NotFound, "error.notfound")
		}
		return nil, err
	}
	if u.Disabled {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	if e := CheckPassword(password); e != nil {
		return nil, Invalid{e}
	}
	if password != repeat {
		return nil, Invalid{apperr.Field("repeat", "users.error.password.repeat")}
	}
	if auth.CheckPassword(password, u.PasswordHash) {
		return nil, Invalid{apperr.Field("password", "users.error.password.same")}
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(u).Set("password_hash = ?", hash).Set("must_change_password = false").WherePK().Exec(ctx); err != nil {
			return err
		}
		return audit.Staff(u, ip).Record(ctx, tx, audit.UserPasswordChange, u.DepartmentID, map[string]any{"user_id": u.ID})
	})
	if err != nil {
		return nil, err
	}
	u.PasswordHash, u.MustChangePassword = hash, false
	return u, nil
}

// Signed is the user a staff session names, with its department; nil when
// the account no longer exists or is disabled (the session then ends).
func Signed(ctx context.Context, db bun.IDB, id int64) (*database.User, error) {
	u := new(database.User)
	err := db.NewSelect().Model(u).Relation("Department").Where("?TableAlias.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && u.Disabled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}
