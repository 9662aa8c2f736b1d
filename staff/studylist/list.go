package studylist

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// studyListForm is the search form as the user typed it (echoed back).
type studyListForm struct {
	Q, From, To, Modality, Report, Department string
	Label                                     string // "Contains labels": a label id
}

// studyRow is a study row with its display strings ready for the template.
type studyRow struct {
	studies.Row
	Name       string
	Birth      string
	Date       string
	Modalities string
	ReportKey  string
	Checked    bool
	Cell       labelCell
}

type studyListData struct {
	Form        studyListForm
	ServiceDesk bool
	Departments []database.Department
	Modalities  []string
	Rows        []studyRow
	Carry       []studies.Selected // selected, but not on this page
	Selected    []int64            // the whole selection (no-JS search form carries it)
	Count       int
	NextURL     string // with the selection, for links without JavaScript
	PrevURL     string
	NextHX      string // without it: htmx adds the live selection (hx-include)
	PrevHX      string
	Searched    bool
	// Labels are those the user may filter on and put on studies; Groups
	// the "for" choices besides the user.
	Labels []database.Label
	Groups []database.Group
}

var modalityRe = regexp.MustCompile(`^[A-Z]{2}$`)

// List is the staff landing page: STEP 1 of the print flow. A plain GET
// form works without JavaScript; htmx requests get the results fragment only.
func (h *Handlers) List(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	page := web.NewPage(c, "studylist.title", nil)
	form := studyListForm{
		Q:          strings.TrimSpace(c.Query("q")),
		From:       strings.TrimSpace(c.Query("from")),
		To:         strings.TrimSpace(c.Query("to")),
		Modality:   strings.ToUpper(strings.TrimSpace(c.Query("modality"))),
		Report:     c.Query("report"),
		Department: strings.TrimSpace(c.Query("department")),
		Label:      strings.TrimSpace(c.Query("label")),
	}
	if len(form.Q) > studies.MaxQueryLen {
		form.Q = form.Q[:studies.MaxQueryLen]
	}
	f := studies.Filter{Query: form.Q, After: c.Query("after"), Before: c.Query("before")}
	f.From = staffweb.ParseDay(page, "from", form.From)
	f.To = staffweb.ParseDay(page, "to", form.To)
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		page.AddError("to", "studylist.error.range")
		f.To = nil
	}
	switch {
	case form.Modality == "":
	case modalityRe.MatchString(form.Modality):
		f.Modality = form.Modality
	default:
		page.AddError("modality", "studylist.error.modality")
		form.Modality = ""
	}
	switch form.Report {
	case studies.ReportYes, studies.ReportNo:
		f.Report = form.Report
	default:
		form.Report = ""
	}
	data := studyListData{Form: form, ServiceDesk: u.IsServiceDesk(), Modalities: studies.Modalities}
	if u.IsServiceDesk() {
		// Department users are scoped by studies.Search whatever they send.
		if id, err := strconv.ParseInt(form.Department, 10, 64); err == nil && id > 0 {
			f.DepartmentID = id
		} else {
			data.Form.Department = ""
		}
	}
	choices, err := h.Studies.Choices(c.Context(), u, f.DepartmentID)
	if err != nil {
		return err
	}
	data.Departments, data.Labels, data.Groups = choices.Departments, choices.Labels, choices.Groups
	studyListLabel(&f, &data)

	res, err := h.Studies.Search(c.Context(), u, f)
	if errors.Is(err, studies.ErrCursor) {
		// A hand-edited cursor: show the first page rather than an error.
		f.After, f.Before = "", ""
		res, err = h.Studies.Search(c.Context(), u, f)
	}
	if err != nil {
		return err
	}

	sel, err := h.Studies.Selection(c.Context(), u, listSelectionIDs(c))
	if err != nil {
		return err
	}
	checked := make(map[int64]bool, len(sel))
	for _, s := range sel {
		checked[s.ID] = true
		data.Selected = append(data.Selected, s.ID)
	}
	data.Count = len(sel)
	onPage := map[int64]bool{}
	for _, r := range res.Rows {
		onPage[r.ID] = true
		row := newStudyRow(r, checked[r.ID])
		row.Cell = labelCell{Page: page, StudyID: r.ID, Labels: r.Labels, CanLabel: len(data.Labels) > 0}
		data.Rows = append(data.Rows, row)
	}
	for _, s := range sel {
		if !onPage[s.ID] {
			data.Carry = append(data.Carry, s)
		}
	}
	data.Searched = form != (studyListForm{})
	base := filterValues(data.Form)
	if res.Next != "" {
		data.NextHX, data.NextURL = pageURLs(base, "after", res.Next, data.Selected)
	}
	if res.Prev != "" {
		data.PrevHX, data.PrevURL = pageURLs(base, "before", res.Prev, data.Selected)
	}
	page.Data = data
	status := http.StatusOK
	if len(page.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	if web.IsHTMX(c) {
		return web.RenderPartial(c, status, "partials/studylist_results", page)
	}
	return web.Render(c, status, "staff/studylist", page)
}

func newStudyRow(r studies.Row, checked bool) studyRow {
	row := studyRow{Row: r, Name: r.PatientName(), Modalities: strings.Join(r.Modalities, ", "), Checked: checked}
	if r.BirthDate != nil {
		row.Birth = r.BirthDate.Format(time.DateOnly)
	}
	if r.StudyDate != nil {
		row.Date = r.StudyDate.Format(time.DateOnly)
	}
	switch r.ReportStatus {
	case "final", "preliminary":
		row.ReportKey = "studylist.report." + r.ReportStatus
	default:
		row.ReportKey = "studylist.report.none"
	}
	return row
}

// listSelectionIDs reads the selection (?study=ID&study=ID), deduplicated.
func listSelectionIDs(c fiber.Ctx) []int64 {
	var ids []int64
	for _, v := range c.Request().URI().QueryArgs().PeekMulti("study") {
		id, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || id <= 0 || slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
		if len(ids) >= studies.MaxSelection {
			break
		}
	}
	return ids
}

func filterValues(f studyListForm) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": f.Q, "from": f.From, "to": f.To, "modality": f.Modality, "report": f.Report, "department": f.Department, "label": f.Label} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// pageURLs builds a pager link twice: for htmx (the live selection is added
// by hx-include) and for plain links (the selection known to the server).
func pageURLs(base url.Values, key, cursor string, selected []int64) (hx, plain string) {
	v := url.Values{}
	for k, s := range base {
		v[k] = s
	}
	v.Set(key, cursor)
	hx = "/staff/?" + v.Encode()
	for _, id := range selected {
		v.Add("study", strconv.FormatInt(id, 10))
	}
	return hx, "/staff/?" + v.Encode()
}

// studyListLabel reads the "Contains labels" filter: a label the user may
// not filter on is dropped, not an error.
func studyListLabel(f *studies.Filter, data *studyListData) {
	if data.Form.Label == "" {
		return
	}
	id, err := strconv.ParseInt(data.Form.Label, 10, 64)
	if err == nil && slices.ContainsFunc(data.Labels, func(l database.Label) bool { return l.ID == id }) {
		f.LabelIDs = []int64{id}
		return
	}
	data.Form.Label = ""
}
