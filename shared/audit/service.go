package audit

import (
	"context"

	"github.com/uptrace/bun"
)

// Service is the audit trail as handlers use it, without the database.
type Service struct {
	DB *bun.DB
}

// Record appends action by a, for department dept (nil: none).
func (s *Service) Record(ctx context.Context, a Actor, action string, dept *int64, details map[string]any) error {
	return a.Record(ctx, s.DB, action, dept, details)
}

// StudyAccess lists the latest accesses to study studyID (see StudyAccess).
func (s *Service) StudyAccess(ctx context.Context, studyID int64, limit int) ([]*Access, error) {
	return StudyAccess(ctx, s.DB, studyID, limit)
}

// EachStudyAccess streams every access to study studyID (see EachStudyAccess).
func (s *Service) EachStudyAccess(ctx context.Context, studyID int64, fn func(*Access) error) error {
	return EachStudyAccess(ctx, s.DB, studyID, fn)
}
