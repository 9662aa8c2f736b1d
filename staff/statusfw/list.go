package statusfw

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// listForm is the Status Forwarding filter form as typed (echoed back).
type listForm struct {
	State, From, To, Patient, Creator, Label, Department string
}

// listRow is a bucket row with its display strings ready for the template.
// Its fields are copied flat, not embedded: text/template looks fields of
// an embedded struct up by a slow reflective search, on every row.
type listRow struct {
	ID             int64
	DepartmentName string
	Anonymized     bool
	AnonNumber     string
	PatientName    string
	PatientNumber  string
	CreatedByName  string
	Failures       int
	Effective      string // active, blocked, revoked, expired
	// Ref names the bucket: only the HMAC of its reference number is
	// stored (the plaintext is on the letter alone), so the row shows the
	// bucket id and the print date, which the letter also carries.
	Ref          string
	Printed      string // translated "printed <date>"
	Studies      []string
	NumStudies   int
	ValidUntil   string
	LastAccess   string
	StateLabel   string
	Verification string // translated
	Scope        string // translated
	CanManage    bool
}

// rowView is what partials/statusfw_row renders: one row, the page (for
// translations and the CSRF token), and an action form opened in the row.
type rowView struct {
	P           *web.Page
	L           *rowLabels
	R           listRow
	ServiceDesk bool
	Form        *actionState
	Done        string // translated message after a successful action
}

// rowLabels are the words every row repeats, translated once per page.
type rowLabels struct {
	Anonymous, Never, Unlock, Extend, Remove, Revoke string
}

func newRowLabels(p *web.Page) *rowLabels {
	return &rowLabels{Anonymous: p.T("statusfw.anonymous"), Never: p.T("statusfw.never"), Unlock: p.T("statusfw.unlock"),
		Extend: p.T("statusfw.extend"), Remove: p.T("statusfw.remove"), Revoke: p.T("statusfw.revoke")}
}

type listData struct {
	Form        listForm
	ServiceDesk bool
	States      []string
	Departments []database.Department
	Creators    []buckets.Choice
	Labels      []buckets.Choice
	Rows        []rowView
	NextURL     string
	FirstURL    string
	Done        string
}

var states = []string{database.BucketActive, database.BucketBlocked, database.BucketRevoked, database.BucketExpired}

// List shows the buckets the user may see: blocked first, then
// newest print first, filtered, one keyset page at a time. Plain staff see
// every column but no action buttons.
func (h *Handlers) List(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	page := web.NewPage(c, "statusfw.title", nil)
	form := listForm{
		State: c.Query("state"), From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to")),
		Patient: strings.TrimSpace(c.Query("patient")), Creator: c.Query("creator"), Label: c.Query("label"),
		Department: c.Query("department"),
	}
	f := buckets.ListFilter{Patient: form.Patient, After: c.Query("after")}
	switch form.State {
	case "", database.BucketActive, database.BucketBlocked, database.BucketRevoked, database.BucketExpired:
		f.State = form.State
	default:
		page.AddError("state", "statusfw.error.state")
		form.State = ""
	}
	f.From = staffweb.ParseDay(page, "from", form.From)
	f.To = staffweb.ParseDay(page, "to", form.To)
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		page.AddError("to", "studylist.error.range")
		f.To = nil
	}
	f.CreatedBy = parseID(form.Creator)
	f.Label = parseID(form.Label)
	if u.IsServiceDesk() {
		f.Department = parseID(form.Department)
	}
	res, err := h.Buckets.List(c.Context(), u, f)
	if err == buckets.ErrCursor {
		return fiber.ErrBadRequest
	}
	if err != nil {
		return err
	}
	choices, err := h.Buckets.ListChoices(c.Context(), u)
	if err != nil {
		return err
	}
	data := listData{Form: form, ServiceDesk: u.IsServiceDesk(), States: states,
		Departments: choices.Departments, Creators: choices.Creators, Labels: choices.Labels}
	labels := newRowLabels(page)
	for _, r := range res.Rows {
		data.Rows = append(data.Rows, rowView{P: page, L: labels, R: h.rowOf(page, u, r), ServiceDesk: data.ServiceDesk})
	}
	q := listQuery(form)
	if res.Next != "" {
		nq := cloneValues(q)
		nq.Set("after", res.Next)
		data.NextURL = "/staff/status?" + nq.Encode()
	}
	if f.After != "" {
		data.FirstURL = "/staff/status?" + q.Encode()
	}
	if done := c.Query("done"); done != "" {
		if a := bucketActionNamed(done); a != nil {
			data.Done = page.T(a.doneKey, "ID", parseID(c.Query("bucket")))
		}
	}
	page.Data = data
	return web.Render(c, http.StatusOK, "staff/statusfw", page)
}

// rowOf prepares one row for display in the page's language.
func (h *Handlers) rowOf(p *web.Page, u *database.User, r *buckets.ListRow) listRow {
	row := listRow{ID: r.ID, DepartmentName: r.DepartmentName, Anonymized: r.Anonymized, AnonNumber: r.AnonNumber,
		PatientName: r.PatientName, PatientNumber: r.PatientNumber, CreatedByName: r.CreatedByName, Failures: r.Failures,
		Effective: r.Effective, Ref: "#" + strconv.FormatInt(r.ID, 10),
		Printed:      p.T("statusfw.printed", "Date", r.CreatedAt.UTC().Format("2006-01-02 15:04")),
		ValidUntil:   r.ValidUntil.Format(time.DateOnly),
		StateLabel:   p.T("statusfw.state." + r.Effective),
		Verification: p.T("statusfw.verification." + r.Verification),
		Scope:        p.T("statusfw.scope." + r.Scope),
		NumStudies:   len(r.Studies),
		CanManage:    buckets.CanManage(u, &database.Bucket{DepartmentID: r.DepartmentID})}
	if r.LastAccessAt != nil {
		row.LastAccess = r.LastAccessAt.UTC().Format("2006-01-02 15:04")
	}
	for _, st := range r.Studies {
		s := strings.Join(st.Modalities, "/")
		if st.Description != "" {
			s = strings.TrimPrefix(s+" · "+st.Description, " · ")
		}
		if st.StudyDate != nil {
			s = st.StudyDate.Format(time.DateOnly) + " " + s
		}
		row.Studies = append(row.Studies, s)
	}
	return row
}

func listQuery(f listForm) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"state": f.State, "from": f.From, "to": f.To, "patient": f.Patient,
		"creator": f.Creator, "label": f.Label, "department": f.Department} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// parseID reads a positive id, 0 when absent or malformed.
func parseID(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// Row renders one row alone (the "cancel" of an action
// form opened in the row by htmx).
func (h *Handlers) Row(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	u := web.CurrentUser(c)
	row, err := h.Buckets.Row(c.Context(), u, id)
	if err != nil {
		return err
	}
	page := web.NewPage(c, "statusfw.title", nil)
	page.Data = rowView{P: page, L: newRowLabels(page), R: h.rowOf(page, u, row), ServiceDesk: u.IsServiceDesk()}
	return web.RenderPartial(c, http.StatusOK, "partials/statusfw_row", page)
}
