package buckets

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
)

// PixelFacts are what the import stored about an instance's pixels.
type PixelFacts struct {
	SOPClassUID string  `bun:"sop_class_uid"`
	BurnedIn    *string `bun:"burned_in"` // "YES", "NO", ""; nil: not read yet
}

// LeftOut is the one rule for images an anonymized bucket never sees (viewer,
// thumbnails, download): the de-identification profile cleans the header,
// not the pixels, so an instance whose pixels may show the patient's name is
// left out. It may when its file says Burned In Annotation YES or
// Recognizable Visual Features YES (a face); when the file says nothing and
// its class is one that often carries burned-in text
// (dicom.BurnedInLikely: secondary capture, ultrasound, video and visible
// light, encapsulated documents, or no class at all); and when the import
// has not read the attribute yet. Only NO, or a class where burned-in text
// is not expected, lets it through. Other viewers see every instance.
func LeftOut(v Viewer, f PixelFacts) bool {
	if !v.IsPatient() || !v.Bucket.Anonymized {
		return false
	}
	if f.BurnedIn == nil {
		return true
	}
	switch *f.BurnedIn {
	case "NO":
		return false
	case "":
		return dicom.BurnedInLikely(f.SOPClassUID)
	}
	return true
}

// LeftOutAmong returns which of the instances ids v does not see
// (LeftOut), for the viewer's "left out" tile and thumbnails: one query for
// the few instances a page shows, not the whole study. The ids must come
// from a study already checked for v (Study).
func (s *Service) LeftOutAmong(ctx context.Context, v Viewer, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if !v.IsPatient() || !v.Bucket.Anonymized || len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID int64 `bun:"id"`
		PixelFacts
	}
	if err := s.DB.NewRaw(`SELECT id, sop_class_uid, burned_in FROM instances WHERE id IN (?)`, bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if LeftOut(v, r.PixelFacts) {
			out[r.ID] = true
		}
	}
	return out, nil
}

func factsOf(in *database.Instance) PixelFacts {
	return PixelFacts{SOPClassUID: in.SOPClassUID, BurnedIn: in.BurnedIn}
}

// AnonStudy is a study as the pages of an anonymized bucket show it: exactly
// what its de-identified files keep (modality, body part, series count),
// never its date, description, accession, referring physician, institution
// or series descriptions.
type AnonStudy struct {
	ID           int64
	Modalities   []string
	BodyParts    []string
	NumSeries    int
	NumInstances int
}

// AnonStudies summarises studies for an anonymized bucket's pages, in the
// same order (one query for the body parts of all of them).
func (s *Service) AnonStudies(ctx context.Context, studies []*database.Study) ([]AnonStudy, error) {
	out := make([]AnonStudy, len(studies))
	if len(studies) == 0 {
		return out, nil
	}
	var parts []struct {
		StudyID  int64  `bun:"study_id"`
		BodyPart string `bun:"body_part"`
	}
	if err := s.DB.NewRaw(`SELECT DISTINCT study_id, body_part FROM series
		WHERE study_id IN (?) AND body_part <> '' ORDER BY study_id, body_part`, bun.In(StudyIDs(studies))).Scan(ctx, &parts); err != nil {
		return nil, err
	}
	byStudy := map[int64][]string{}
	for _, p := range parts {
		byStudy[p.StudyID] = append(byStudy[p.StudyID], p.BodyPart)
	}
	for i, st := range studies {
		out[i] = AnonStudy{ID: st.ID, Modalities: st.Modalities, BodyParts: byStudy[st.ID], NumSeries: st.NumSeries, NumInstances: st.NumInstances}
	}
	return out, nil
}

// Redact is the copy of study st that an anonymized bucket's viewer works
// with: its id and what AnonStudy keeps, nothing the de-identified files
// remove.
func Redact(st *database.Study) *database.Study {
	return &database.Study{ID: st.ID, DepartmentID: st.DepartmentID, Modalities: st.Modalities,
		NumSeries: st.NumSeries, NumInstances: st.NumInstances}
}

// FirstShown returns, for each of series seriesIDs (of a study already
// checked for v), its first instance in reading order that v sees, for a
// thumbnail in place of a left-out first image; a series whose images are
// all left out has none.
func (s *Service) FirstShown(ctx context.Context, v Viewer, seriesIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(seriesIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ID       int64 `bun:"id"`
		SeriesID int64 `bun:"series_id"`
		PixelFacts
	}
	if err := s.DB.NewRaw(`SELECT id, series_id, sop_class_uid, burned_in FROM instances
		WHERE series_id IN (?) ORDER BY series_id, number NULLS LAST, id`, bun.In(seriesIDs)).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		if _, ok := out[r.SeriesID]; !ok && !LeftOut(v, r.PixelFacts) {
			out[r.SeriesID] = r.ID
		}
	}
	return out, nil
}
