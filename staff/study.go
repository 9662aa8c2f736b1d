package staff

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/store"
	"github.com/radpass/radpass/shared/web"
)

// SeriesView is a series with the instance its thumbnail shows.
type SeriesView struct {
	*store.Series
	ThumbID  int64
	URL      string
	Selected bool
}

// ViewerView is the image view of one instance and frame.
type ViewerView struct {
	InstanceID  int64
	Index, Of   int // 1-based position in the series
	Frame       int // 0-based
	FrameNo     int // 1-based, for display
	IndexZero   int
	Frames      int
	Window      string
	ImageURL    string
	DownloadURL string
	PrevURL     string
	NextURL     string
	PrevFrame   string
	NextFrame   string
	FormAction  string
	SeriesID    int64
	Windows     []string
}

// StudyView is the study detail page.
type StudyView struct {
	Study  *store.Study
	Series []SeriesView
	Viewer *ViewerView
}

// Study shows a study: header, series thumbnails and a simple image view.
// The query (?series=&i=&f=&w=) selects what the viewer shows, so every
// state has a URL and the page works without JavaScript.
func (h *Handlers) Study(c fiber.Ctx) error {
	web.NoStore(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.ErrNotFound
	}
	ctx := c.Context()
	u := web.CurrentUser(c)
	study, err := visibleStudy(ctx, h.DB, u, id)
	if err != nil {
		return err
	}
	// A page load is a view of patient data (requirement 13); the viewer's
	// htmx steps through frames within that view are not recorded one by one.
	if c.Get("HX-Request") != "true" {
		if err := audit.Record(ctx, h.DB, &audit.Event{Action: audit.StudyView, ActorKind: "staff", ActorID: &u.ID,
			ActorName: u.Username, DepartmentID: &study.DepartmentID, IP: c.IP(), Details: map[string]any{"study_id": study.ID}}); err != nil {
			return err
		}
	}
	var series []*store.Series
	if err := h.DB.NewSelect().Model(&series).Where("study_id = ?", id).OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil {
		return err
	}
	var thumbs []struct {
		ID       int64 `bun:"id"`
		SeriesID int64 `bun:"series_id"`
	}
	if len(series) > 0 {
		if err := h.DB.NewRaw(`SELECT DISTINCT ON (i.series_id) i.id, i.series_id FROM instances i
			JOIN series se ON se.id = i.series_id WHERE se.study_id = ?
			ORDER BY i.series_id, i.number NULLS LAST, i.id`, id).Scan(ctx, &thumbs); err != nil {
			return err
		}
	}
	thumbOf := map[int64]int64{}
	for _, t := range thumbs {
		thumbOf[t.SeriesID] = t.ID
	}
	base := fmt.Sprintf("/staff/studies/%d", id)
	selID, _ := strconv.ParseInt(c.Query("series"), 10, 64)
	v := &StudyView{Study: study}
	var sel *store.Series
	for _, s := range series {
		sv := SeriesView{Series: s, ThumbID: thumbOf[s.ID], URL: base + "?series=" + strconv.FormatInt(s.ID, 10)}
		if sel == nil && (selID == 0 && sv.ThumbID != 0 || s.ID == selID) {
			sel, sv.Selected = s, true
		}
		v.Series = append(v.Series, sv)
	}
	if sel != nil {
		if v.Viewer, err = h.viewer(c, base, sel.ID); err != nil {
			return err
		}
	}
	return web.Render(c, http.StatusOK, "staff/study", web.NewPage(c, "dicom.study.title", v))
}

func (h *Handlers) viewer(c fiber.Ctx, base string, seriesID int64) (*ViewerView, error) {
	var insts []struct {
		ID     int64 `bun:"id"`
		Frames int   `bun:"frames"`
	}
	if err := h.DB.NewSelect().Table("instances").Column("id", "frames").Where("series_id = ?", seriesID).
		OrderExpr("number NULLS LAST, id").Scan(c.Context(), &insts); err != nil {
		return nil, err
	}
	if len(insts) == 0 {
		return nil, nil
	}
	idx := clampInt(c.Query("i"), 0, len(insts)-1)
	cur := insts[idx]
	frames := max(cur.Frames, 1)
	frame := clampInt(c.Query("f"), 0, frames-1)
	win := c.Query("w")
	if _, _, ok := dicom.ParseWindow(win); !ok {
		win = ""
	}
	link := func(i, f int) string {
		q := url.Values{"series": {strconv.FormatInt(seriesID, 10)}, "i": {strconv.Itoa(i)}}
		if f > 0 {
			q.Set("f", strconv.Itoa(f))
		}
		if win != "" {
			q.Set("w", win)
		}
		return base + "?" + q.Encode()
	}
	img := url.Values{"size": {"1024"}}
	if frame > 0 {
		img.Set("f", strconv.Itoa(frame))
	}
	if win != "" {
		img.Set("w", win)
	}
	vv := &ViewerView{
		InstanceID: cur.ID, Index: idx + 1, IndexZero: idx, Of: len(insts), Frame: frame, FrameNo: frame + 1, Frames: frames, Window: win,
		ImageURL:    fmt.Sprintf("/staff/images/%d?%s", cur.ID, img.Encode()),
		DownloadURL: fmt.Sprintf("/staff/instances/%d/dicom", cur.ID),
		FormAction:  base, SeriesID: seriesID,
		Windows: append([]string{"", "auto"}, dicom.PresetNames...),
	}
	if idx > 0 {
		vv.PrevURL = link(idx-1, 0)
	}
	if idx < len(insts)-1 {
		vv.NextURL = link(idx+1, 0)
	}
	if frame > 0 {
		vv.PrevFrame = link(idx, frame-1)
	}
	if frame < frames-1 {
		vv.NextFrame = link(idx, frame+1)
	}
	return vv, nil
}

func clampInt(s string, lo, hi int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo {
		return lo
	}
	return min(n, hi)
}
