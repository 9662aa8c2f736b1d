package buckets

import (
	"context"
	"database/sql"
	"errors"

	"github.com/radpass/radpass/shared/database"
)

// Get loads bucket id with its patient and department.
func (s *Service) Get(ctx context.Context, id int64) (*database.Bucket, error) {
	b := new(database.Bucket)
	err := s.DB.NewSelect().Model(b).Relation("Patient").Relation("Department").Where("?TableAlias.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return b, err
}

// ForStaff loads bucket id if u may see its department (ErrNotFound otherwise:
// another department's bucket looks like no bucket at all).
func (s *Service) ForStaff(ctx context.Context, u *database.User, id int64) (*database.Bucket, error) {
	if u == nil || id <= 0 {
		return nil, ErrNotFound
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !u.CanSeeDepartment(b.DepartmentID) {
		return nil, ErrNotFound
	}
	return b, nil
}

// Studies are the studies of a bucket, newest first.
func (s *Service) Studies(ctx context.Context, bucketID int64) ([]*database.Study, error) {
	var studies []*database.Study
	err := s.DB.NewSelect().Model(&studies).
		Where("?TableAlias.id IN (SELECT study_id FROM bucket_studies WHERE bucket_id = ?)", bucketID).
		OrderExpr("?TableAlias.study_date DESC NULLS LAST, ?TableAlias.id DESC").Scan(ctx)
	return studies, err
}

// StudyIDs lists the ids of studies.
func StudyIDs(studies []*database.Study) []int64 {
	ids := make([]int64, len(studies))
	for i, st := range studies {
		ids[i] = st.ID
	}
	return ids
}
