package labels

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
)

// Service is the labels operations on one database, for handlers.
type Service struct{ DB bun.IDB }

// Get is Get on the service's database.
func (s Service) Get(ctx context.Context, u *database.User, id int64) (*database.Label, error) {
	return Get(ctx, s.DB, u, id)
}

// Delete is Delete on the service's database.
func (s Service) Delete(ctx context.Context, actor audit.Actor, id int64) error {
	return Delete(ctx, s.DB, actor, id)
}

// Update is Update on the service's database.
func (s Service) Update(ctx context.Context, actor audit.Actor, id int64, name, colour string) (*database.Label, error) {
	return Update(ctx, s.DB, actor, id, name, colour)
}

// Create is Create on the service's database.
func (s Service) Create(ctx context.Context, actor audit.Actor, dept int64, name, colour string) (*database.Label, error) {
	return Create(ctx, s.DB, actor, dept, name, colour)
}

// List is List on the service's database.
func (s Service) List(ctx context.Context, dept int64) ([]database.Label, error) {
	return List(ctx, s.DB, dept)
}

// AddToStudy is AddToStudy on the service's database.
func (s Service) AddToStudy(ctx context.Context, actor audit.Actor, studyID, labelID int64, t Target) error {
	return AddToStudy(ctx, s.DB, actor, studyID, labelID, t)
}

// RemoveFromStudy is RemoveFromStudy on the service's database.
func (s Service) RemoveFromStudy(ctx context.Context, actor audit.Actor, studyID, id int64) error {
	return RemoveFromStudy(ctx, s.DB, actor, studyID, id)
}
