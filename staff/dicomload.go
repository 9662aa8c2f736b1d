package staff

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/web"
)

// instanceRef is an instance with the department it belongs to, for the
// access check of the image and download handlers.
type instanceRef struct {
	ID           int64  `bun:"id"`
	SOPUID       string `bun:"sop_uid"`
	StorageKey   string `bun:"storage_key"`
	Frames       int    `bun:"frames"`
	SizeBytes    int64  `bun:"size_bytes"`
	StudyID      int64  `bun:"study_id"`
	DepartmentID int64  `bun:"department_id"`
}

// visibleInstance loads instance :id if the signed-in user may see its
// department; anything else is a 404, so other departments' ids reveal nothing.
func (h *Handlers) visibleInstance(c fiber.Ctx) (*instanceRef, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return nil, fiber.ErrNotFound
	}
	ref := new(instanceRef)
	err = h.DB.NewRaw(`SELECT i.id, i.sop_uid, i.storage_key, i.frames, i.size_bytes, st.id AS study_id, st.department_id
		FROM instances i JOIN series se ON se.id = i.series_id JOIN studies st ON st.id = se.study_id
		WHERE i.id = ?`, id).Scan(c.Context(), ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fiber.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if u := web.CurrentUser(c); u == nil || !u.CanSeeDepartment(ref.DepartmentID) {
		return nil, fiber.ErrNotFound
	}
	return ref, nil
}

// visibleStudy loads study id with its patient under the same rule.
func visibleStudy(ctx context.Context, db bun.IDB, u *store.User, id int64) (*store.Study, error) {
	s := new(store.Study)
	err := db.NewSelect().Model(s).Relation("Patient").Where("study.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fiber.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if u == nil || !u.CanSeeDepartment(s.DepartmentID) {
		return nil, fiber.ErrNotFound
	}
	return s, nil
}
