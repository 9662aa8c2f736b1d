package patient

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
)

// patientURLs are the patient side's viewer links for study id (no per-file
// download: the patient downloads the whole bucket).
func patientURLs(id int64) viewer.URLs {
	return viewer.URLs{
		Study: "/p/studies/" + strconv.FormatInt(id, 10),
		Image: func(i int64) string { return "/p/images/" + strconv.FormatInt(i, 10) },
	}
}

// studyView is a study in the patient viewer.
type studyView struct {
	*viewer.StudyView
	Name   string
	Report bool // the report route answers for this study
	// Anon is set for an anonymized bucket: the study as its de-identified
	// files keep it (Study is then redacted to the same).
	Anon *buckets.AnonStudy
	OHIF bool // "Open in OHIF" (RADPASS_OHIF_URL, links.go)
}

// Study shows one study of the bucket: series thumbnails and one image at a time.
func (h *Handlers) Study(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.studyPage(c, bucketOf(c), id)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, "patient/study", p)
}

// studyPage builds the viewer page of study id for bucket b, recording the
// view (study, and the series shown).
func (h *Handlers) studyPage(c fiber.Ctx, b *database.Bucket, id int64) (*web.Page, error) {
	ctx := c.Context()
	vw := buckets.Patient(b) // b: also right after sign-in, before any guard set it
	if sc := shareScopeOf(c); sc != nil {
		vw = buckets.Shared(b, sc)
	}
	study, err := h.Buckets.Study(ctx, vw, id)
	if err != nil {
		return nil, err
	}
	seriesID, _ := strconv.ParseInt(c.Query("series"), 10, 64)
	shown := study
	var anon *buckets.AnonStudy
	if b.Anonymized {
		sums, err := h.Buckets.AnonStudies(ctx, []*database.Study{study})
		if err != nil {
			return nil, err
		}
		anon, shown = &sums[0], buckets.Redact(study)
	}
	v, err := h.Viewer.Build(ctx, shown, viewer.Query{Series: seriesID, Index: c.Query("i"), Frame: c.Query("f"), Window: c.Query("w")}, patientURLs(id))
	if err != nil {
		return nil, err
	}
	if b.Anonymized {
		if err := h.leaveOut(ctx, b, v); err != nil {
			return nil, err
		}
	}
	if err := h.recordView(c, b, audit.StudyView, "study:"+itoa(study.ID), map[string]any{"study_id": study.ID}); err != nil {
		return nil, err
	}
	if v.Selected != nil {
		if err := h.recordView(c, b, audit.SeriesView, "series:"+itoa(v.Selected.ID), map[string]any{"study_id": study.ID, "series_id": v.Selected.ID}); err != nil {
			return nil, err
		}
	}
	p := web.NewPage(c, "patient.study.title", nil)
	p.Data = &studyView{StudyView: v, Name: displayName(p, b), Report: buckets.ReportAllowed(vw, study, h.Buckets.Time()), Anon: anon,
		OHIF: h.Links != nil && h.OHIFURL != "" && !isDoctor(c)}
	return p, nil
}

// leaveOut fits the viewer of an anonymized bucket to what it may see: an
// image it does not see (buckets.LeftOut) becomes the "left out" tile, a
// series whose first image is such an image takes its first shown image as
// thumbnail (none if all are left out), and series descriptions (removed
// from the de-identified files) go.
func (h *Handlers) leaveOut(ctx context.Context, b *database.Bucket, v *viewer.StudyView) error {
	var ids []int64
	for _, se := range v.Series {
		if se.ThumbID != 0 {
			ids = append(ids, se.ThumbID)
		}
	}
	if v.Viewer != nil {
		ids = append(ids, v.Viewer.InstanceID)
	}
	out, err := h.Buckets.LeftOutAmong(ctx, buckets.Patient(b), ids)
	if err != nil {
		return err
	}
	var rethumb []int64
	for i := range v.Series {
		se := *v.Series[i].Series
		se.Description = ""
		v.Series[i].Series = &se
		if out[v.Series[i].ThumbID] {
			v.Series[i].ThumbID, v.Series[i].ThumbURL = 0, ""
			rethumb = append(rethumb, se.ID)
		}
		if v.Series[i].Selected {
			v.Selected = &se
		}
	}
	first, err := h.Buckets.FirstShown(ctx, buckets.Patient(b), rethumb)
	if err != nil {
		return err
	}
	for i := range v.Series {
		if id := first[v.Series[i].ID]; id != 0 {
			v.Series[i].ThumbID, v.Series[i].ThumbURL = id, patientURLs(v.Study.ID).Image(id)+"?size=128"
		}
	}
	if v.Viewer != nil && out[v.Viewer.InstanceID] {
		v.Viewer.LeftOut, v.Viewer.ImageURL = true, ""
	}
	return nil
}

// Image sends one rendered frame of an instance of the bucket.
func (h *Handlers) Image(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	b := bucketOf(c)
	ref, err := h.Buckets.Instance(c.Context(), viewerOf(c), id)
	if err != nil {
		return err
	}
	if err := h.recordView(c, b, audit.SeriesView, "series:"+itoa(ref.SeriesID), map[string]any{"study_id": ref.StudyID, "series_id": ref.SeriesID}); err != nil {
		return err
	}
	return viewer.SendImage(c, h.Renderer, ref.StorageKey, ref.Frames)
}

// recordView writes a view of patient data by bucket b, once per key and half hour.
func (h *Handlers) recordView(c fiber.Ctx, b *database.Bucket, action, key string, details map[string]any) error {
	return h.Audit.RecordView(c.Context(), actorOf(c, b).Event(action, &b.DepartmentID, details), key)
}
