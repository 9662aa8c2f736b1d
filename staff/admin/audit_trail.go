package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// auditForm is the audit search as typed (echoed back).
type auditForm struct {
	From, To, Actor, Action, Patient, Study, Bucket, Department string
}

type auditRow struct {
	audit.Event
	When, Details, Dept, Bucket string
}

type auditData struct {
	Form        auditForm
	Actions     []string
	Rows        []auditRow
	NextURL     string
	PrevURL     string
	CSVURL      string
	ServiceDesk bool
	Departments []database.Department
	DeptNames   map[int64]string
}

// auditExportTimeout bounds one CSV export (it runs after the handler
// returned, so it has its own context).
const auditExportTimeout = 10 * time.Minute

// parseAudit reads the search form; problems go on their fields.
func parseAudit(c fiber.Ctx, page *web.Page, u *database.User) (auditForm, audit.Query) {
	f := auditForm{
		From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to")),
		Actor: strings.TrimSpace(c.Query("actor")), Action: c.Query("action"),
		Patient: strings.TrimSpace(c.Query("patient")), Study: strings.TrimSpace(c.Query("study")),
		Bucket: strings.TrimSpace(c.Query("bucket")), Department: strings.TrimSpace(c.Query("department")),
	}
	var q audit.Query
	if t := staffweb.ParseDay(page, "from", f.From); t != nil {
		q.From = t
	}
	if t := staffweb.ParseDay(page, "to", f.To); t != nil {
		end := t.AddDate(0, 0, 1) // "to" is inclusive: up to the end of that day (UTC)
		q.To = &end
	}
	if q.From != nil && q.To != nil && !q.To.After(*q.From) {
		page.AddError("to", "audit.error.range")
		q.To = nil
	}
	for _, v := range []struct {
		field string
		val   *string
		max   int
	}{{"actor", &f.Actor, 64}, {"patient", &f.Patient, 64}, {"study", &f.Study, 64}} {
		if len(*v.val) > v.max {
			page.AddError(v.field, "audit.error.toolong", "Max", v.max)
			*v.val = (*v.val)[:v.max]
		}
	}
	q.Actor, q.Patient, q.Study = f.Actor, f.Patient, f.Study
	switch {
	case f.Action == "":
	case audit.KnownAction(f.Action):
		q.Action = f.Action
	default:
		page.AddError("action", "audit.error.action")
		f.Action = ""
	}
	if f.Bucket != "" {
		if id, err := strconv.ParseInt(f.Bucket, 10, 64); err == nil && id > 0 {
			q.BucketID = id
		} else {
			page.AddError("bucket", "audit.error.bucket")
		}
	}
	var asked int64
	if u.IsServiceDesk() {
		if id, err := strconv.ParseInt(f.Department, 10, 64); err == nil && id > 0 {
			asked = id
		} else {
			f.Department = ""
		}
	} else {
		f.Department = ""
	}
	q.Departments = audit.ScopeFor(u, asked)
	q.After, q.Before = c.Query("after"), c.Query("before")
	return f, q
}

func (f auditForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"from": f.From, "to": f.To, "actor": f.Actor, "action": f.Action,
		"patient": f.Patient, "study": f.Study, "bucket": f.Bucket, "department": f.Department} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// AuditTrail searches the audit trail: department admins their department,
// the service desk all (or one) departments; keyset pages, newest first.
func (h *Handlers) AuditTrail(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	page := web.NewPage(c, "audit.title", nil)
	form, q := parseAudit(c, page, u)
	res, err := h.Audit.Search(c.Context(), q)
	if errors.Is(err, audit.ErrCursor) {
		q.After, q.Before = "", ""
		res, err = h.Audit.Search(c.Context(), q)
	}
	if err != nil {
		return err
	}
	data := auditData{Form: form, Actions: audit.Actions, ServiceDesk: u.IsServiceDesk(), DeptNames: map[int64]string{}}
	if data.ServiceDesk {
		ds, err := h.Departments.List(c.Context())
		if err != nil {
			return err
		}
		data.Departments = ds
		for _, d := range data.Departments {
			data.DeptNames[d.ID] = d.Name
		}
	}
	for _, e := range res.Events {
		r := auditRow{Event: e, When: e.At.UTC().Format("2006-01-02 15:04:05") + " UTC", Details: detailsText(e.Details)}
		if e.DepartmentID != nil {
			r.Dept = data.DeptNames[*e.DepartmentID]
		}
		if e.BucketID != nil {
			r.Bucket = strconv.FormatInt(*e.BucketID, 10)
		}
		data.Rows = append(data.Rows, r)
	}
	vals := form.values()
	data.CSVURL = "/staff/audit.csv"
	if enc := vals.Encode(); enc != "" {
		data.CSVURL += "?" + enc
	}
	// Previous pages back by keyset too (before = the first event shown):
	// the URL stays short and any page can be bookmarked, whatever the depth.
	if res.Next != "" {
		vals.Set("after", res.Next)
		data.NextURL = "/staff/audit?" + vals.Encode()
		vals.Del("after")
	}
	if res.Prev != "" {
		vals.Set("before", res.Prev)
		data.PrevURL = "/staff/audit?" + vals.Encode()
		vals.Del("before")
	}
	page.Data = data
	status := http.StatusOK
	if len(page.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return web.Render(c, status, "staff/audit", page)
}

// AuditCSV exports every event matching the search as CSV, streamed row by
// row from the database; the export itself is recorded first.
func (h *Handlers) AuditCSV(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	page := web.NewPage(c, "audit.title", nil)
	_, q := parseAudit(c, page, u)
	if len(page.Errors) > 0 {
		for _, msg := range page.Errors {
			return fiber.NewError(http.StatusUnprocessableEntity, msg)
		}
	}
	q.After, q.Before = "", ""
	var dept *int64
	if len(q.Departments) == 1 {
		dept = &q.Departments[0]
	}
	if err := h.Audit.Record(c.Context(), staffweb.Actor(c).Event(audit.AuditExport, dept, map[string]any{"filter": q.String()})); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="radpass-audit-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	trail, log := h.Audit, h.Log
	// Written after the handler returns, at the client's pace (a stalled
	// client is cut off after the server's write timeout).
	return web.SendStreamWriter(c, auditExportTimeout, func(ctx context.Context, w io.Writer) error {
		_, err := trail.WriteCSV(ctx, q, w)
		if err != nil && log != nil {
			// Headers are gone: the client sees a broken download.
			log.Error("audit export failed", "error", err.Error())
		}
		return err
	})
}

// detailsText shows an event's details as "key: value" pairs, keys sorted.
func detailsText(d map[string]any) string {
	if len(d) == 0 {
		return ""
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(jsonText(d[k]))
	}
	return b.String()
}

// jsonText renders one details value compactly.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
