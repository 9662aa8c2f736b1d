package buckets

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// File is one stored instance of a bucket with its study and series, for
// the download.
type File struct {
	Study    *database.Study
	Series   *database.Series
	Instance *database.Instance
}

// Files lists the instances of bucket b's studies in reading order (study,
// series number, instance number), each study with its patient: three
// queries, whatever the number of studies and series. The instances an
// anonymized bucket does not see (LeftOut) come in leftOut instead, in the
// same order, for the read-me.
func (s *Service) Files(ctx context.Context, b *database.Bucket) (files, leftOut []File, err error) {
	return s.FilesFor(ctx, Patient(b))
}

// FilesFor is Files for viewer v of a bucket: a doctor's share gets only
// the shared studies' files.
func (s *Service) FilesFor(ctx context.Context, v Viewer) (files, leftOut []File, err error) {
	if !v.IsPatient() {
		return nil, nil, ErrNotFound
	}
	all, err := s.files(ctx, v.Bucket.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range all {
		if !v.Sees(f.Study.ID) {
			continue
		}
		if LeftOut(v, factsOf(f.Instance)) {
			leftOut = append(leftOut, f)
		} else {
			files = append(files, f)
		}
	}
	return files, leftOut, nil
}

func (s *Service) files(ctx context.Context, id int64) ([]File, error) {
	var studies []*database.Study
	if err := s.DB.NewSelect().Model(&studies).Relation("Patient").
		Where("?TableAlias.id IN (SELECT study_id FROM bucket_studies WHERE bucket_id = ?)", id).
		OrderExpr("?TableAlias.study_date DESC NULLS LAST, ?TableAlias.id DESC").Scan(ctx); err != nil || len(studies) == 0 {
		return nil, err
	}
	var series []*database.Series
	if err := s.DB.NewSelect().Model(&series).Where("study_id IN (?)", bun.In(StudyIDs(studies))).
		OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil || len(series) == 0 {
		return nil, err
	}
	seriesIDs := make([]int64, len(series))
	for i, se := range series {
		seriesIDs[i] = se.ID
	}
	var insts []*database.Instance
	if err := s.DB.NewSelect().Model(&insts).Where("series_id IN (?)", bun.In(seriesIDs)).
		OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil {
		return nil, err
	}
	bySeries := map[int64][]*database.Instance{}
	for _, in := range insts {
		bySeries[in.SeriesID] = append(bySeries[in.SeriesID], in)
	}
	byStudy := map[int64][]*database.Series{}
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
