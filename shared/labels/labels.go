// Package labels holds a department's labels and their use on studies:
// department admins (and the service desk) create, rename, recolour and
// delete labels; any staff user of the department puts a label on a study
// for themselves or for a group, and takes it off again. Every change is one
// transaction with its audit event.
package labels

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

// MaxName is the longest label name (the schema's check).
const MaxName = 60

// Colour is one colour of the fixed palette: the hex value stored and the
// i18n key of its name.
type Colour struct {
	Hex, Key string
}

// Palette is the only colours a label may have (distinct on white, and
// readable as a border): the seed's three come first.
var Palette = []Colour{
	{"#c0392b", "labels.colour.red"},
	{"#2e86c1", "labels.colour.blue"},
	{"#27ae60", "labels.colour.green"},
	{"#d68910", "labels.colour.orange"},
	{"#8e44ad", "labels.colour.purple"},
	{"#5b7db1", "labels.colour.slate"},
	{"#17a589", "labels.colour.teal"},
	{"#7f8c8d", "labels.colour.grey"},
}

// ValidColour reports whether hex is in the palette.
func ValidColour(hex string) bool {
	for _, c := range Palette {
		if c.Hex == hex {
			return true
		}
	}
	return false
}

// MayAdminister reports whether u may create, rename, recolour and delete the
// labels of department dept.
func MayAdminister(u *database.User, dept int64) bool {
	return u != nil && (u.IsServiceDesk() || (u.IsAdmin() && u.CanSeeDepartment(dept)))
}

// List returns the labels of department dept by name.
func List(ctx context.Context, db bun.IDB, dept int64) ([]database.Label, error) {
	var out []database.Label
	return out, db.NewSelect().Model(&out).Where("department_id = ?", dept).OrderExpr("lower(name), id").Scan(ctx)
}

// Visible returns the labels u may filter on and put on studies: their
// department's, or every department's for the service desk (dept > 0 narrows).
func Visible(ctx context.Context, db bun.IDB, u *database.User, dept int64) ([]database.Label, error) {
	var out []database.Label
	q := db.NewSelect().Model(&out).OrderExpr("lower(name), id")
	switch {
	case !u.IsServiceDesk() && u.DepartmentID != nil:
		q = q.Where("department_id = ?", *u.DepartmentID)
	case !u.IsServiceDesk():
		return nil, nil
	case dept > 0:
		q = q.Where("department_id = ?", dept)
	}
	return out, q.Scan(ctx)
}

// Get returns label id if u's department owns it (NotFound otherwise).
func Get(ctx context.Context, db bun.IDB, u *database.User, id int64) (*database.Label, error) {
	l := new(database.Label)
	err := db.NewSelect().Model(l).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (u == nil || !u.CanSeeDepartment(l.DepartmentID))) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	return l, err
}

func check(name, colour string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", apperr.Field("name", "labels.error.name.required")
	case n > MaxName:
		return "", apperr.Field("name", "labels.error.name.toolong", "Max", MaxName)
	}
	if !ValidColour(colour) {
		return "", apperr.Field("color", "labels.error.colour")
	}
	return name, nil
}

// Create makes a label in department dept.
func Create(ctx context.Context, db bun.IDB, actor audit.Actor, dept int64, name, colour string) (*database.Label, error) {
	if !MayAdminister(actor.User, dept) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	name, err := check(name, colour)
	if err != nil {
		return nil, err
	}
	l := &database.Label{DepartmentID: dept, Name: name, Color: colour}
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(l).Exec(ctx); err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.LabelCreate, &dept, map[string]any{"label_id": l.ID, "name": name, "color": colour})
	})
	if database.IsUniqueViolation(err) {
		return nil, apperr.Field("name", "labels.error.name.taken")
	}
	return l, err
}

// Update renames and recolours label id. The row is read again under lock
// inside the transaction: a label deleted meanwhile is NotFound (no audit
// event, no "saved"), and the event names what it really was before.
func Update(ctx context.Context, db bun.IDB, actor audit.Actor, id int64, name, colour string) (*database.Label, error) {
	l, err := Get(ctx, db, actor.User, id)
	if err != nil {
		return nil, err
	}
	if !MayAdminister(actor.User, l.DepartmentID) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	name, err = check(name, colour)
	if err != nil {
		return nil, err
	}
	err = database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockLabel(ctx, tx, l); err != nil {
			return err
		}
		details := map[string]any{"label_id": l.ID}
		if name != l.Name {
			details["name"] = map[string]any{"from": l.Name, "to": name}
		}
		if colour != l.Color {
			details["color"] = map[string]any{"from": l.Color, "to": colour}
		}
		if _, err := tx.NewUpdate().Model(l).Set("name = ?", name).Set("color = ?", colour).WherePK().Exec(ctx); err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.LabelUpdate, &l.DepartmentID, details)
	})
	if database.IsUniqueViolation(err) {
		return nil, apperr.Field("name", "labels.error.name.taken")
	}
	if err != nil {
		return nil, err
	}
	l.Name, l.Color = name, colour
	return l, nil
}

// lockLabel reloads l under a row lock inside tx; NotFound when it is gone
// (deleted by a request that ran between the caller's check and now).
func lockLabel(ctx context.Context, tx bun.Tx, l *database.Label) error {
	err := tx.NewSelect().Model(l).WherePK().For("UPDATE").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
	return err
}

// Delete deletes label id and takes it off every study (ON DELETE CASCADE).
// Two deletes of one label at once delete it once: the second is NotFound,
// so the trail holds one event and only one request says "deleted".
func Delete(ctx context.Context, db bun.IDB, actor audit.Actor, id int64) error {
	l, err := Get(ctx, db, actor.User, id)
	if err != nil {
		return err
	}
	if !MayAdminister(actor.User, l.DepartmentID) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockLabel(ctx, tx, l); err != nil {
			return err
		}
		var n int
		if err := tx.NewSelect().Model((*database.StudyLabel)(nil)).ColumnExpr("count(*)").Where("label_id = ?", l.ID).Scan(ctx, &n); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(l).WherePK().Exec(ctx); err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.LabelDelete, &l.DepartmentID, map[string]any{"label_id": l.ID, "name": l.Name, "studies": n})
	})
}
