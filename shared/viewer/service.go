package viewer

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// Service builds viewer pages from one database, for handlers.
type Service struct{ DB bun.IDB }

// Build is the viewer page of study for q (see Build).
func (s Service) Build(ctx context.Context, study *database.Study, q Query, u URLs) (*StudyView, error) {
	return Build(ctx, s.DB, study, q, u)
}
