package labels

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
)

// Target is whom a label on a study is for: one user or one group.
type Target struct {
	UserID, GroupID *int64
}

// ParseTarget reads "u:ID" or "g:ID" (the form value of the "for" choice);
// "" or "me" is u itself.
func ParseTarget(u *database.User, v string) (Target, bool) {
	if v == "" || v == "me" {
		return Target{UserID: &u.ID}, true
	}
	kind, num, _ := strings.Cut(v, ":")
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return Target{}, false
	}
	switch kind {
	case "u":
		return Target{UserID: &id}, true
	case "g":
		return Target{GroupID: &id}, true
	}
	return Target{}, false
}

// Concerns is the SQL condition "this study_labels row (alias sl) is for
// user ? or one of their groups": the labels a user sees.
const Concerns = "(sl.user_id = ? OR sl.group_id IN (SELECT group_id FROM group_members WHERE user_id = ?))"

// study loads the study if u may see it (NotFound otherwise).
func study(ctx context.Context, db bun.IDB, u *database.User, id int64) (*database.Study, error) {
	s := new(database.Study)
	err := db.NewSelect().Model(s).Column("id", "department_id").Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !u.CanSeeDepartment(s.DepartmentID)) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	return s, err
}

// checkTarget: the user or group must be of the study's department (the
// service desk may put a label for itself, having no department).
func checkTarget(ctx context.Context, db bun.IDB, u *database.User, dept int64, t Target) error {
	var ok bool
	var err error
	switch {
	case t.UserID != nil && *t.UserID == u.ID:
		return nil
	case t.UserID != nil:
		ok, err = db.NewSelect().Model((*database.User)(nil)).Where("id = ? AND department_id = ?", *t.UserID, dept).Exists(ctx)
	case t.GroupID != nil:
		ok, err = db.NewSelect().Model((*database.Group)(nil)).Where("id = ? AND department_id = ?", *t.GroupID, dept).Exists(ctx)
	}
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Field("label_for", "labels.error.target")
	}
	return nil
}

// AddToStudy puts label labelID on study studyID for t. Any staff user of
// the study's department may; the label must be that department's. Putting
// the same label for the same target twice changes nothing.
func AddToStudy(ctx context.Context, db bun.IDB, actor audit.Actor, studyID, labelID int64, t Target) error {
	u := actor.User
	s, err := study(ctx, db, u, studyID)
	if err != nil {
		return err
	}
	l, err := Get(ctx, db, u, labelID)
	if err != nil || l.DepartmentID != s.DepartmentID {
		return apperr.Field("label", "labels.error.label")
	}
	if err := checkTarget(ctx, db, u, s.DepartmentID, t); err != nil {
		return err
	}
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		added, err := Attach(ctx, tx, l.ID, t, u.ID, []int64{s.ID})
		if errors.Is(err, ErrLabelGone) {
			return apperr.Field("label", "labels.error.label")
		}
		if errors.Is(err, ErrTargetGone) {
			return apperr.Field("label_for", "labels.error.target")
		}
		if err != nil || added == 0 {
			return err
		}
		d := map[string]any{"study_id": s.ID, "label_id": l.ID, "label": l.Name}
		if t.UserID != nil {
			d["user_id"] = *t.UserID
		} else {
			d["group_id"] = *t.GroupID
		}
		return actor.Record(ctx, tx, audit.LabelAdd, &s.DepartmentID, d)
	})
}

// RemoveFromStudy takes the label row id off its study. The user must see the
// row (it is for them or one of their groups) and the study.
func RemoveFromStudy(ctx context.Context, db bun.IDB, actor audit.Actor, studyID, id int64) error {
	u := actor.User
	s, err := study(ctx, db, u, studyID)
	if err != nil {
		return err
	}
	sl := new(database.StudyLabel)
	err = db.NewSelect().Model(sl).Where("id = ? AND study_id = ?", id, s.ID).
		Where(strings.ReplaceAll(Concerns, "sl.", ""), u.ID, u.ID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
	if err != nil {
		return err
	}
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model(sl).WherePK().Exec(ctx)
		if err != nil {
			return err
		}
		// Taken off meanwhile (a double click, the label deleted): one
		// removal, one event.
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "error.notfound")
		}
		return actor.Record(ctx, tx, audit.LabelRemove, &s.DepartmentID, map[string]any{"study_id": s.ID, "label_id": sl.LabelID})
	})
}

// keyShare locks row id of table against deletion until tx ends
// (sql.ErrNoRows: already gone).
func keyShare(ctx context.Context, tx bun.Tx, table string, id int64) error {
	var got int64
	return tx.NewRaw("SELECT id FROM ? WHERE id = ? FOR KEY SHARE", bun.Ident(table), id).Scan(ctx, &got)
}

// ErrLabelGone and ErrTargetGone: the label, or the group it was to be put
// for, was deleted since the caller checked it.
var (
	ErrLabelGone  = errors.New("labels: label deleted")
	ErrTargetGone = errors.New("labels: group deleted")
)

// Attach puts label labelID for t on studyIDs inside tx, by user by (0: no
// user, e.g. a machine token's print), and
// says how many rows it added: a study that has the label for that target
// already keeps its one row. Adds of one label to one study are serialised
// (two clicks, or a print racing a click, make one row), the studies taken
// in id order so transactions taking several cannot deadlock; the label and
// the group are held against deletion meanwhile. One INSERT for all
// studies: study_labels' statement triggers run once.
func Attach(ctx context.Context, tx bun.Tx, labelID int64, t Target, by int64, studyIDs []int64) (int64, error) {
	ids := slices.Clone(studyIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for _, id := range ids {
		if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(?, ?)", int32(id), int32(labelID)).Exec(ctx); err != nil {
			return 0, err
		}
	}
	if err := keyShare(ctx, tx, "labels", labelID); errors.Is(err, sql.ErrNoRows) {
		return 0, ErrLabelGone
	} else if err != nil {
		return 0, err
	}
	if t.GroupID != nil {
		if err := keyShare(ctx, tx, "groups", *t.GroupID); errors.Is(err, sql.ErrNoRows) {
			return 0, ErrTargetGone
		} else if err != nil {
			return 0, err
		}
	}
	res, err := tx.NewRaw(`INSERT INTO study_labels (study_id, label_id, user_id, group_id, created_by)
		SELECT s, ?, ?, ?, ? FROM unnest(?::bigint[]) AS s WHERE NOT EXISTS (SELECT 1 FROM study_labels
			WHERE study_id = s AND label_id = ? AND user_id IS NOT DISTINCT FROM ? AND group_id IS NOT DISTINCT FROM ?)`,
		labelID, t.UserID, t.GroupID, sql.NullInt64{Int64: by, Valid: by != 0}, pgdialect.Array(ids), labelID, t.UserID, t.GroupID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("insert study labels: %w", err)
	}
	return res.RowsAffected()
}

// Targets are the choices of the "for" menu: the user and the department's groups.
func Targets(ctx context.Context, db bun.IDB, u *database.User) ([]database.Group, error) {
	var out []database.Group
	if u.DepartmentID == nil {
		return nil, nil
	}
	return out, db.NewSelect().Model(&out).Where("department_id = ?", *u.DepartmentID).OrderExpr("lower(name), id").Scan(ctx)
}
