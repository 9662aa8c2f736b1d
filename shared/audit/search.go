package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// PageSize is the number of events on one page of the audit trail.
const PageSize = 50

// Query is a search of the audit trail. Zero values mean "any".
type Query struct {
	From, To *time.Time // At in [From, To)
	Actor    string     // actor name, exact (case-insensitive)
	Action   string     // one of Actions
	Patient  string     // DICOM patient ID (resolved within the scope)
	Study    string     // accession number or study instance UID
	BucketID int64
	After    string // cursor: events older than this one
	Before   string // cursor: events newer than this one (Previous); wins over After
	Limit    int    // 0 = PageSize
	// Departments scopes the search: nil = every department (the service
	// desk only), else events of these departments.
	Departments []int64
}

// Page is one page of events, newest first; Next is the cursor of the next
// (older) page and Prev of the previous (newer) one, "" when there is none.
type Page struct {
	Events []Event
	Next   string
	Prev   string
}

// ErrCursor is a cursor this package did not make.
var ErrCursor = errors.New("audit: malformed cursor")

// MaxSubjects caps the studies or patients a search resolves to.
const MaxSubjects = 200

// ScopeFor is the department scope of user u: their department, or every
// department (nil) for the service desk, asked narrowing it to one.
func ScopeFor(u *database.User, asked int64) []int64 {
	switch {
	case u.IsServiceDesk() && asked > 0:
		return []int64{asked}
	case u.IsServiceDesk():
		return nil
	case u.DepartmentID != nil:
		return []int64{*u.DepartmentID}
	}
	return []int64{-1} // no department: nothing
}

// Search returns one page of events matching q, newest first (keyset on
// (at, id), served by the audit_events_at_id / dept_at_id indexes). Paging
// back (Before) walks the same index the other way: the page of events just
// newer than the cursor, so Previous after Next shows the rows seen before
// (the trail is append-only, and new events only ever come first).
func Search(ctx context.Context, db bun.IDB, q Query) (Page, error) {
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = PageSize
	}
	back := q.Before != ""
	if back {
		q.After = ""
	}
	sel, err := build(ctx, db, q)
	if err != nil {
		return Page{}, err
	}
	if back {
		sel = sel.OrderExpr("a.at ASC, a.id ASC")
	} else {
		sel = sel.OrderExpr("a.at DESC, a.id DESC")
	}
	var evs []Event
	if err := sel.Limit(limit+1).Scan(ctx, &evs); err != nil {
		return Page{}, err
	}
	var p Page
	more := len(evs) > limit
	if more {
		evs = evs[:limit]
	}
	if back {
		slices.Reverse(evs)
	}
	if len(evs) > 0 {
		first, last := evs[0], evs[len(evs)-1]
		// Forward: older events beyond this page (more), newer ones before
		// it (any cursor: at least the cursor's event). Back: the reverse.
		if back || more {
			p.Next = encodeCursor(last.At, last.ID)
		}
		if (back && more) || (!back && q.After != "") {
			p.Prev = encodeCursor(first.At, first.ID)
		}
	}
	p.Events = evs
	return p, nil
}

// build makes the query of q: the scope, the filters and the cursor; the
// caller orders it.
func build(ctx context.Context, db bun.IDB, q Query) (*bun.SelectQuery, error) {
	sel := db.NewSelect().Model((*Event)(nil)).ModelTableExpr("audit_events AS a").ColumnExpr("a.*")
	if q.Departments != nil {
		sel = sel.Where("a.department_id IN (?)", bun.In(q.Departments))
	}
	if q.From != nil {
		sel = sel.Where("a.at >= ?", q.From.UTC())
	}
	if q.To != nil {
		sel = sel.Where("a.at < ?", q.To.UTC())
	}
	if q.Actor != "" {
		sel = sel.Where("lower(a.actor_name) = lower(?)", q.Actor)
	}
	if q.Action != "" {
		sel = sel.Where("a.action = ?", q.Action)
	}
	if q.BucketID > 0 {
		sel = sel.Where("a.bucket_id = ?", q.BucketID)
	}
	if q.Study != "" {
		ids, err := studyIDs(ctx, db, q, "(s.accession = ? OR s.study_uid = ?)", q.Study, q.Study)
		if err != nil {
			return nil, err
		}
		sel = sel.Where(subjectCond(nil, ids))
	}
	if q.Patient != "" {
		var pids []int64
		pq := db.NewSelect().TableExpr("patients AS p").ColumnExpr("p.id").Where("p.patient_id = ?", q.Patient).Limit(MaxSubjects)
		if q.Departments != nil {
			pq = pq.Where("p.department_id IN (?)", bun.In(q.Departments))
		}
		if err := pq.Scan(ctx, &pids); err != nil {
			return nil, err
		}
		var ids []int64
		if len(pids) > 0 {
			var err error
			if ids, err = studyIDs(ctx, db, q, "s.patient_id IN (?)", bun.In(pids)); err != nil {
				return nil, err
			}
		}
		sel = sel.Where(subjectCond(pids, ids))
	}
	switch {
	case q.Before != "":
		at, id, err := decodeCursor(q.Before)
		if err != nil {
			return nil, err
		}
		sel = sel.Where("(a.at, a.id) > (?, ?)", at, id)
	case q.After != "":
		at, id, err := decodeCursor(q.After)
		if err != nil {
			return nil, err
		}
		sel = sel.Where("(a.at, a.id) < (?, ?)", at, id)
	}
	return sel, nil
}

func studyIDs(ctx context.Context, db bun.IDB, q Query, cond string, args ...any) ([]int64, error) {
	var ids []int64
	sq := db.NewSelect().TableExpr("studies AS s").ColumnExpr("s.id").Where(cond, args...).OrderExpr("s.id DESC").Limit(MaxSubjects)
	if q.Departments != nil {
		sq = sq.Where("s.department_id IN (?)", bun.In(q.Departments))
	}
	return ids, sq.Scan(ctx, &ids)
}

// subjectCond matches the events about these patients (row ids) or studies:
// details naming them (jsonb containment, served by the GIN index), or the
// buckets holding them. No subject found: no event.
func subjectCond(patients, studies []int64) string {
	if len(patients) == 0 && len(studies) == 0 {
		return "false"
	}
	var or []string
	doc := func(k string, v any) string {
		b, _ := json.Marshal(map[string]any{k: v})
		return "a.details @> '" + string(b) + "'::jsonb" // numbers only: no quoting issue
	}
	for _, id := range patients {
		or = append(or, doc("patient_id", id))
	}
	for _, id := range studies {
		or = append(or, doc("study_id", id), doc("studies", []int64{id}))
	}
	var buckets []string
	if len(patients) > 0 {
		buckets = append(buckets, "SELECT b.id FROM buckets AS b WHERE b.patient_id IN ("+joinIDs(patients)+")")
	}
	if len(studies) > 0 {
		buckets = append(buckets, "SELECT bs.bucket_id FROM bucket_studies AS bs WHERE bs.study_id IN ("+joinIDs(studies)+")")
	}
	or = append(or, "a.bucket_id IN ("+strings.Join(buckets, " UNION ")+")")
	return "(" + strings.Join(or, " OR ") + ")"
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

var cursorRe = regexp.MustCompile(`^(\d{1,20})-(\d{1,19})$`)

// A cursor is "<unix microseconds>-<id>" of the last event shown.
func encodeCursor(at time.Time, id int64) string {
	return strconv.FormatInt(at.UnixMicro(), 10) + "-" + strconv.FormatInt(id, 10)
}

func decodeCursor(c string) (time.Time, int64, error) {
	m := cursorRe.FindStringSubmatch(c)
	if m == nil {
		return time.Time{}, 0, ErrCursor
	}
	us, err1 := strconv.ParseInt(m[1], 10, 64)
	id, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, 0, ErrCursor
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// CSVHeader is the first line of an export.
var CSVHeader = []string{"time_utc", "action", "outcome", "actor_kind", "actor_id", "actor_name", "department_id", "bucket_id", "ip", "details"}

// WriteCSV streams every event matching q (all pages, newest first) to w as
// CSV, one database row at a time: nothing is built in memory. Cells that a
// spreadsheet would run as a formula are defused (see SafeCell).
func WriteCSV(ctx context.Context, db *bun.DB, q Query, w io.Writer) (int, error) {
	q.After, q.Before = "", ""
	sel, err := build(ctx, db, q)
	if err != nil {
		return 0, err
	}
	rows, err := sel.OrderExpr("a.at DESC, a.id DESC").Rows(ctx)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return 0, err
	}
	n := 0
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	for rows.Next() {
		var e Event
		if err := db.ScanRow(ctx, rows, &e); err != nil {
			return n, err
		}
		details, _ := json.Marshal(e.Details)
		rec := []string{e.At.UTC().Format(time.RFC3339Nano), e.Action, e.Outcome, e.ActorKind, opt(e.ActorID), e.ActorName,
			opt(e.DepartmentID), opt(e.BucketID), e.IP, string(details)}
		for i := range rec {
			rec[i] = SafeCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return n, err
		}
		n++
		if n%500 == 0 {
			if cw.Flush(); cw.Error() != nil {
				return n, cw.Error()
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}

// SafeCell defuses CSV formula injection: a cell starting with = + - @ (or a
// tab or carriage return, which some spreadsheets skip before them) gets a
// leading apostrophe so it is read as text.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// String describes q for the audit event of an export (no secrets in it).
func (q Query) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if q.From != nil {
		add("from", q.From.UTC().Format(time.RFC3339))
	}
	if q.To != nil {
		add("to", q.To.UTC().Format(time.RFC3339))
	}
	add("actor", q.Actor)
	add("action", q.Action)
	add("patient", q.Patient)
	add("study", q.Study)
	if q.BucketID > 0 {
		add("bucket", strconv.FormatInt(q.BucketID, 10))
	}
	return strings.Join(parts, " ")
}
