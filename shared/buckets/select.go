package buckets

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/database"
)

// Select applies the server-side rules of STEP 1: every study exists
// and is the user's department's (else 404, as if it did not exist), all
// belong to one patient, whose date of birth is known.
func (s *Service) Select(ctx context.Context, u *database.User, ids []int64) (*Selection, error) {
	return s.selectWhere(ctx, ids, func(dept int64) bool { return u != nil && u.CanSeeDepartment(dept) })
}

// selectWhere is Select for whoever sees the departments visible says.
func (s *Service) selectWhere(ctx context.Context, ids []int64, visible func(dept int64) bool) (*Selection, error) {
	var studies []*database.Study
	err := s.DB.NewSelect().Model(&studies).Relation("Patient").Relation("Department").
		Where("?TableAlias.id IN (?)", bun.In(ids)).
		OrderExpr("?TableAlias.study_date DESC NULLS LAST, ?TableAlias.id DESC").
		Scan(ctx)
	if err != nil {
		return nil, err
	}
	if len(studies) != len(ids) {
		return nil, apperr.New(apperr.NotFound, "error.notfound")
	}
	for _, st := range studies {
		if !visible(st.DepartmentID) {
			return nil, apperr.New(apperr.NotFound, "error.notfound")
		}
	}
	for _, st := range studies[1:] {
		if st.PatientID != studies[0].PatientID {
			return nil, apperr.New(apperr.Invalid, "print.error.patients")
		}
	}
	p := studies[0].Patient
	if p.BirthDate == nil {
		return nil, apperr.New(apperr.Invalid, "print.error.nobirthdate", "Name", p.DisplayName())
	}
	return &Selection{IDs: ids, Studies: studies, Patient: p, Dept: studies[0].Department}, nil
}
