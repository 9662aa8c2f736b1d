package buckets

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/store"
)

// File is one stored instance of a bucket with its study and series, for
// the download.
type File struct {
	Study    *store.Study
	Series   *store.Series
	Instance *store.Instance
}

// Files lists every instance of bucket id's studies in reading order
// (study, series number, instance number), each study with its patient.
func (s *Service) Files(ctx context.Context, id int64) ([]File, error) {
	studies, err := s.Studies(ctx, id)
	if err != nil || len(studies) == 0 {
		return nil, err
	}
	var pats []*store.Study
	if err := s.DB.NewSelect().Model(&pats).Relation("Patient").Where("?TableAlias.id IN (?)", bun.In(StudyIDs(studies))).Scan(ctx); err != nil {
		return nil, err
	}
	byID := map[int64]*store.Study{}
	for _, st := range pats {
		byID[st.ID] = st
	}
	var out []File
	for _, st := range studies {
		var series []*store.Series
		if err := s.DB.NewSelect().Model(&series).Where("study_id = ?", st.ID).OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil {
			return nil, err
		}
		for _, se := range series {
			var insts []*store.Instance
			if err := s.DB.NewSelect().Model(&insts).Where("series_id = ?", se.ID).OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil {
				return nil, err
			}
			for _, in := range insts {
				out = append(out, File{Study: byID[st.ID], Series: se, Instance: in})
			}
		}
	}
	return out, nil
}
