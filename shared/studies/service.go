package studies

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/labels"
)

// Service is the study list as handlers use it, without the database.
type Service struct {
	DB bun.IDB
}

// Search returns one page of the studies u may see that match f.
func (s *Service) Search(ctx context.Context, u *database.User, f Filter) (Page, error) {
	return Search(ctx, s.DB, u, f)
}

// Selection returns those of ids that u may see (see Selection).
func (s *Service) Selection(ctx context.Context, u *database.User, ids []int64) ([]Selected, error) {
	return Selection(ctx, s.DB, u, ids)
}

// LabelsOf returns the labels of study id that concern u.
func (s *Service) LabelsOf(ctx context.Context, u *database.User, id int64) ([]Label, error) {
	return LabelsOf(ctx, s.DB, u, id)
}

// Choices are the choices of the study list's search form.
type Choices struct {
	Departments []database.Department // the service desk only
	Labels      []database.Label      // those u may filter on and put on studies
	Groups      []database.Group      // the "for" choices besides u
}

// Choices returns the search form's choices for u; dept narrows the service
// desk's labels to one department (0: all).
func (s *Service) Choices(ctx context.Context, u *database.User, dept int64) (*Choices, error) {
	out := &Choices{}
	var err error
	if u.IsServiceDesk() {
		if out.Departments, err = departments.List(ctx, s.DB); err != nil {
			return nil, err
		}
	}
	if out.Labels, err = labels.Visible(ctx, s.DB, u, dept); err != nil {
		return nil, err
	}
	if out.Groups, err = labels.Targets(ctx, s.DB, u); err != nil {
		return nil, err
	}
	return out, nil
}
