// Package viewer builds the view model of the image viewer that staff and
// patients share: series with thumbnails, and one image at a time with
// previous/next, frames and window presets. Every state is a URL, so the
// viewer works without JavaScript; each side brings its own URL prefixes.
package viewer

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
)

// URLs are the prefixes of one side: Study is the page of the study
// ("/staff/studies/12"), Image and Download take an instance id.
type URLs struct {
	Study    string
	Image    func(instanceID int64) string
	Download func(instanceID int64) string // nil: no per-file download on this side
}

// Query is the viewer state a URL carries: ?series=&i=&f=&w=.
type Query struct {
	Series int64
	Index  string
	Frame  string
	Window string
}

// SeriesView is a series with the instance its thumbnail shows.
type SeriesView struct {
	*database.Series
	ThumbID  int64
	ThumbURL string
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
	// Slider: one link per position would be too many; the range input
	// posts i through the form (FormAction) instead.
	SliderMax int
	// LeftOut: this image is not shown to the viewer (an anonymized
	// bucket's image whose pixels may show the patient's name); the page
	// says so instead of showing it, and ImageURL is empty.
	LeftOut bool
}

// StudyView is the study with its series and the selected image.
type StudyView struct {
	Study    *database.Study
	Series   []SeriesView
	Viewer   *ViewerView
	Selected *database.Series
}

// Build loads the series of study and the viewer state of q.
func Build(ctx context.Context, db bun.IDB, study *database.Study, q Query, u URLs) (*StudyView, error) {
	var series []*database.Series
	if err := db.NewSelect().Model(&series).Where("study_id = ?", study.ID).OrderExpr("number NULLS LAST, id").Scan(ctx); err != nil {
		return nil, err
	}
	var thumbs []struct {
		ID       int64 `bun:"id"`
		SeriesID int64 `bun:"series_id"`
	}
	if len(series) > 0 {
		if err := db.NewRaw(`SELECT DISTINCT ON (i.series_id) i.id, i.series_id FROM instances i
			JOIN series se ON se.id = i.series_id WHERE se.study_id = ?
			ORDER BY i.series_id, i.number NULLS LAST, i.id`, study.ID).Scan(ctx, &thumbs); err != nil {
			return nil, err
		}
	}
	thumbOf := map[int64]int64{}
	for _, t := range thumbs {
		thumbOf[t.SeriesID] = t.ID
	}
	v := &StudyView{Study: study}
	for _, s := range series {
		sv := SeriesView{Series: s, ThumbID: thumbOf[s.ID], URL: u.Study + "?series=" + strconv.FormatInt(s.ID, 10)}
		if sv.ThumbID != 0 {
			sv.ThumbURL = u.Image(sv.ThumbID) + "?size=128"
		}
		if v.Selected == nil && (q.Series == 0 && sv.ThumbID != 0 || s.ID == q.Series) {
			v.Selected, sv.Selected = s, true
		}
		v.Series = append(v.Series, sv)
	}
	if v.Selected != nil {
		var err error
		if v.Viewer, err = image(ctx, db, v.Selected.ID, q, u); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func image(ctx context.Context, db bun.IDB, seriesID int64, q Query, u URLs) (*ViewerView, error) {
	var insts []struct {
		ID     int64 `bun:"id"`
		Frames int   `bun:"frames"`
	}
	if err := db.NewSelect().Table("instances").Column("id", "frames").Where("series_id = ?", seriesID).
		OrderExpr("number NULLS LAST, id").Scan(ctx, &insts); err != nil {
		return nil, err
	}
	if len(insts) == 0 {
		return nil, nil
	}
	idx := clampInt(q.Index, 0, len(insts)-1)
	cur := insts[idx]
	frames := max(cur.Frames, 1)
	frame := clampInt(q.Frame, 0, frames-1)
	win := q.Window
	if _, _, ok := dicom.ParseWindow(win); !ok {
		win = ""
	}
	link := func(i, f int) string {
		v := url.Values{"series": {strconv.FormatInt(seriesID, 10)}, "i": {strconv.Itoa(i)}}
		if f > 0 {
			v.Set("f", strconv.Itoa(f))
		}
		if win != "" {
			v.Set("w", win)
		}
		return u.Study + "?" + v.Encode()
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
		ImageURL:   fmt.Sprintf("%s?%s", u.Image(cur.ID), img.Encode()),
		FormAction: u.Study, SeriesID: seriesID, SliderMax: len(insts) - 1,
		Windows: append([]string{"", "auto"}, dicom.PresetNames...),
	}
	if u.Download != nil {
		vv.DownloadURL = u.Download(cur.ID)
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
