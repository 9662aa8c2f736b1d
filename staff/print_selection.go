package staff

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/store"
)

// maxSelection bounds one print: a letter lists its exams on one page.
const maxSelection = 50

// selection is the studies one print covers: all of one patient, visible to the user.
type selection struct {
	IDs     []int64
	Studies []*store.Study
	Patient *store.Patient
	Dept    *store.Department
}

// studyIDs reads the repeated study parameter from the query (GET) or the form (POST).
func studyIDs(c fiber.Ctx) ([]int64, error) {
	var raw [][]byte
	if c.Method() == fiber.MethodPost {
		raw = c.Request().PostArgs().PeekMulti("study")
	} else {
		raw = c.Request().URI().QueryArgs().PeekMulti("study")
	}
	if len(raw) == 0 {
		return nil, apperr.New(apperr.Invalid, "print.error.noselection")
	}
	if len(raw) > maxSelection {
		return nil, apperr.New(apperr.Invalid, "print.error.toomany", "Max", maxSelection)
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, r := range raw {
		id, err := strconv.ParseInt(string(r), 10, 64)
		if err != nil || id <= 0 {
			return nil, apperr.New(apperr.NotFound, "error.notfound")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// requestSelection is the selection the request names (study=…), checked
// against the rules of STEP 1 for u.
func (h *Handlers) requestSelection(c fiber.Ctx, u *store.User) (*selection, error) {
	ids, err := studyIDs(c)
	if err != nil {
		return nil, err
	}
	return h.loadSelection(c.Context(), u, ids)
}

// loadSelection applies the server-side rules of STEP 1: every study exists
// and is the user's department's (else 404, as if it did not exist), all
// belong to one patient, whose date of birth is known.
func (h *Handlers) loadSelection(ctx context.Context, u *store.User, ids []int64) (*selection, error) {
	var studies []*store.Study
	err := h.DB.NewSelect().Model(&studies).Relation("Patient").Relation("Department").
		Where("?TableAlias.id IN (?)", bun.In(ids)).
		OrderExpr("?TableAlias.study_date DESC NULLS LAST, ?TableAlias.id DESC").
		Scan(ctx)
	if err != nil {
		return nil, err
	}
	if len(studies) != len(ids) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	for _, s := range studies {
		if !u.CanSeeDepartment(s.DepartmentID) {
			return nil, apperr.New(apperr.NotFound, "error.notfound")
		}
	}
	for _, s := range studies[1:] {
		if s.PatientID != studies[0].PatientID {
			return nil, apperr.New(apperr.Invalid, "print.error.patients")
		}
	}
	p := studies[0].Patient
	if p.BirthDate == nil {
		return nil, apperr.New(apperr.Invalid, "print.error.nobirthdate", "Name", p.DisplayName())
	}
	return &selection{IDs: ids, Studies: studies, Patient: p, Dept: studies[0].Department}, nil
}
