package users

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
)

// Service is the users operations on one database, for handlers.
type Service struct{ DB bun.IDB }

// List is List on the service's database.
func (s Service) List(ctx context.Context, actor *database.User, dept *int64) ([]database.User, error) {
	return List(ctx, s.DB, actor, dept)
}

// Get is Get on the service's database.
func (s Service) Get(ctx context.Context, actor *database.User, id int64) (*database.User, error) {
	return Get(ctx, s.DB, actor, id)
}

// GroupsOf is GroupsOf on the service's database.
func (s Service) GroupsOf(ctx context.Context, id int64) ([]database.Group, error) {
	return GroupsOf(ctx, s.DB, id)
}

// Create is Create on the service's database.
func (s Service) Create(ctx context.Context, actor audit.Actor, n New) (*database.User, error) {
	return Create(ctx, s.DB, actor, n)
}

// SetDisabled is SetDisabled on the service's database.
func (s Service) SetDisabled(ctx context.Context, actor audit.Actor, id int64, disabled bool) (*database.User, error) {
	return SetDisabled(ctx, s.DB, actor, id, disabled)
}

// ResetPassword is ResetPassword on the service's database.
func (s Service) ResetPassword(ctx context.Context, actor audit.Actor, id int64, password string) (*database.User, error) {
	return ResetPassword(ctx, s.DB, actor, id, password)
}

// GetGroup is GetGroup on the service's database.
func (s Service) GetGroup(ctx context.Context, actor *database.User, id int64) (*database.Group, error) {
	return GetGroup(ctx, s.DB, actor, id)
}

// DeleteGroup is DeleteGroup on the service's database.
func (s Service) DeleteGroup(ctx context.Context, actor audit.Actor, id int64) error {
	return DeleteGroup(ctx, s.DB, actor, id)
}

// AddMember is AddMember on the service's database.
func (s Service) AddMember(ctx context.Context, actor audit.Actor, gid, uid int64) error {
	return AddMember(ctx, s.DB, actor, gid, uid)
}

// RemoveMember is RemoveMember on the service's database.
func (s Service) RemoveMember(ctx context.Context, actor audit.Actor, gid, uid int64) error {
	return RemoveMember(ctx, s.DB, actor, gid, uid)
}

// RenameGroup is RenameGroup on the service's database.
func (s Service) RenameGroup(ctx context.Context, actor audit.Actor, id int64, name string) (*database.Group, error) {
	return RenameGroup(ctx, s.DB, actor, id, name)
}

// Members is Members on the service's database.
func (s Service) Members(ctx context.Context, g *database.Group) ([]database.User, error) {
	return Members(ctx, s.DB, g)
}

// CreateGroup is CreateGroup on the service's database.
func (s Service) CreateGroup(ctx context.Context, actor audit.Actor, dept int64, name string) (*database.Group, error) {
	return CreateGroup(ctx, s.DB, actor, dept, name)
}

// Groups is Groups on the service's database.
func (s Service) Groups(ctx context.Context, dept int64) ([]database.Group, error) {
	return Groups(ctx, s.DB, dept)
}

// ChangePassword is ChangePassword on the service's database.
func (s Service) ChangePassword(ctx context.Context, userID int64, password, repeat, ip string) (*database.User, error) {
	return ChangePassword(ctx, s.DB, userID, password, repeat, ip)
}

// SetLanguage is SetLanguage on the service's database.
func (s Service) SetLanguage(ctx context.Context, id int64, lang string) error {
	return SetLanguage(ctx, s.DB, id, lang)
}

// Signed is Signed on the service's database.
func (s Service) Signed(ctx context.Context, id int64) (*database.User, error) {
	return Signed(ctx, s.DB, id)
}
