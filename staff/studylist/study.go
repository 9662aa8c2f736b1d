package studylist

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/viewer"
	"github.com/radpass/radpass/shared/web"
)

// staffURLs are the staff side's viewer links for study id.
func staffURLs(id int64) viewer.URLs {
	return viewer.URLs{
		Study:    "/staff/studies/" + strconv.FormatInt(id, 10),
		Image:    func(i int64) string { return "/staff/images/" + strconv.FormatInt(i, 10) },
		Download: func(i int64) string { return "/staff/instances/" + strconv.FormatInt(i, 10) + "/dicom" },
	}
}

// StudyPage is the study detail page: the shared viewer plus the buckets
// that include the study.
type StudyPage struct {
	*viewer.StudyView
	Access *StudyAccess // buckets with the study and who accessed it (access_csv.go)
}

// Study shows a study: header, series thumbnails and a simple image view.
// The query (?series=&i=&f=&w=) selects what the viewer shows, so every
// state has a URL and the page works without JavaScript.
func (h *Handlers) Study(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Context()
	u := web.CurrentUser(c)
	study, err := h.Buckets.Study(ctx, buckets.Staff(u), id)
	if err != nil {
		return err
	}
	seriesID, _ := strconv.ParseInt(c.Query("series"), 10, 64)
	v, err := h.Viewer.Build(ctx, study, viewer.Query{Series: seriesID, Index: c.Query("i"), Frame: c.Query("f"), Window: c.Query("w")}, staffURLs(id))
	if err != nil {
		return err
	}
	// Every answer shows patient data, whatever its headers: the study once
	// per half hour and viewer, each series the same way (not every frame).
	ev := func(action string) *audit.Event {
		return audit.Staff(u, c.IP()).Event(action, &study.DepartmentID, map[string]any{"study_id": study.ID})
	}
	if err := h.Audit.RecordView(ctx, ev(audit.StudyView), "study:"+strconv.FormatInt(study.ID, 10)); err != nil {
		return err
	}
	if v.Selected != nil {
		e := ev(audit.SeriesView)
		e.Details["series_id"] = v.Selected.ID
		if err := h.Audit.RecordView(ctx, e, "series:"+strconv.FormatInt(v.Selected.ID, 10)); err != nil {
			return err
		}
	}
	page := web.NewPage(c, "dicom.study.title", nil)
	access, err := h.studyAccess(ctx, page, study.ID)
	if err != nil {
		return err
	}
	page.Data = &StudyPage{StudyView: v, Access: access}
	return web.Render(c, http.StatusOK, "staff/study", page)
}
