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
// (study, series number, instance number), each study with its patient:
// three queries, whatever the number of studies and series.
func (s *Service) Files(ctx context.Context, id int64) ([]File, error) {
	var studies []*store.Study
	if err := s.DB.NewSelect().Model(&studies).Relation("Patient").
		Where("?TableAlias.id IN (SELECT study_id FROM bucket_studies WHERE bucket_id = ?)", id).
		OrderExpr("?TableAlias.study_date DESC NULLS LAST, ?TableAlias.id DESC").Scan(ctx); err != nil || len(studies) == 0 {
		return nil, err
	}
	var series []*store.Series
	if err := s.DB.NewSelect().Model(&series).Where("study_id IN (?)", bun.In(StudyIDs(studies))).
		OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil || len(series) == 0 {
		return nil, err
	}
	seriesIDs := make([]int64, len(series))
	for i, se := range series {
		seriesIDs[i] = se.ID
	}
	var insts []*store.Instance
	if err := s.DB.NewSelect().Model(&insts).Where("series_id IN (?)", bun.In(seriesIDs)).
		OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil {
		return nil, err
	}
	bySeries := map[int64][]*store.Instance{}
	for _, in := range insts {
		bySeries[in.SeriesID] = append(bySeries[in.SeriesID], in)
	}
	byStudy := map[int64][]*store.Series{}
	for _, se := range series {
		byStudy[se.StudyID] = append(byStudy[se.StudyID], se)
	}
	var out []File
	for _, st := range studies {
		for _, se := range byStudy[st.ID] {
			for _, in := range bySeries[se.ID] {
				out = append(out, File{Study: st, Series: se, Instance: in})
			}
		}
	}
	return out, nil
}
