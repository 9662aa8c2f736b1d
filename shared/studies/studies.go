// Package studies answers the staff study list: search, filters, department
// scoping and keyset pagination over (sort date, id), newest first. It is kept
// apart from the handler so the benchmark can call Search directly.
package studies

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/store"
)

// PageSize is the number of studies on one page of the list.
const PageSize = 50

// MaxQueryLen bounds the search text (longer input is cut, never an error).
const MaxQueryLen = 100

// Report filter values.
const (
	ReportAny = ""
	ReportYes = "yes"
	ReportNo  = "no"
)

// Modalities offered in the modality filter.
var Modalities = []string{"CR", "CT", "DX", "MG", "MR", "NM", "OT", "PT", "RF", "US", "XA"}

// sortKey orders studies newest first with undated ones last; it must match
// the expression of the studies_dept_sort and studies_sort indexes exactly.
const sortKey = "coalesce(s.study_date, '-infinity'::date)"

// Filter is what the user asked for. Zero values mean "no filter".
type Filter struct {
	Query        string     // patient name (partial, folded), patient ID or accession
	From, To     *time.Time // study date range, inclusive
	Modality     string
	Report       string // ReportAny, ReportYes, ReportNo
	DepartmentID int64  // service desk only; ignored for department users
	After        string // cursor: rows after this one (next page)
	Before       string // cursor: rows before this one (previous page)
	Limit        int    // 0 = PageSize
}

// Label is a label shown on a study row.
type Label struct {
	StudyID int64  `bun:"study_id"`
	Name    string `bun:"name"`
	Color   string `bun:"color"`
}

// Row is one line of the study list.
type Row struct {
	ID             int64      `bun:"id"`
	DepartmentID   int64      `bun:"department_id"`
	DepartmentName string     `bun:"department_name"`
	PatientRowID   int64      `bun:"patient_row_id"`
	PatientID      string     `bun:"patient_id"`
	FamilyName     string     `bun:"family_name"`
	GivenName      string     `bun:"given_name"`
	BirthDate      *time.Time `bun:"birth_date,type:date"`
	StudyDate      *time.Time `bun:"study_date,type:date"`
	Modalities     []string   `bun:"modalities,array"`
	Description    string     `bun:"description"`
	Accession      string     `bun:"accession"`
	NumInstances   int        `bun:"num_instances"`
	ReportStatus   string     `bun:"report_status"`
	Labels         []Label    `bun:"-"`
}

// PatientName is "FAMILY, Given" as the list shows it.
func (r Row) PatientName() string {
	p := store.Patient{FamilyName: r.FamilyName, GivenName: r.GivenName}
	return p.DisplayName()
}

// Cursor is the keyset position of this row.
func (r Row) Cursor() string { return encodeCursor(r.StudyDate, r.ID) }

// Page is one page of results; Next/Prev are cursors ("" when there is none).
type Page struct {
	Rows       []Row
	Next, Prev string
}

// ErrCursor is returned for a cursor that was not made by this package.
var ErrCursor = fmt.Errorf("studies: malformed cursor")

// Search returns one page of the studies u may see that match f.
func Search(ctx context.Context, db bun.IDB, u *store.User, f Filter) (Page, error) {
	st, err := chooseStrategy(ctx, db, u, f)
	if err != nil {
		return Page{}, err
	}
	q, backward, limit, err := query(db, u, f, st)
	if err != nil {
		return Page{}, err
	}
	var rows []Row
	if err := q.Scan(ctx, &rows); err != nil {
		return Page{}, err
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	var p Page
	if backward {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
		if len(rows) > 0 {
			p.Next = rows[len(rows)-1].Cursor()
			if more {
				p.Prev = rows[0].Cursor()
			}
		}
	} else if len(rows) > 0 {
		if more {
			p.Next = rows[len(rows)-1].Cursor()
		}
		if f.After != "" {
			p.Prev = rows[0].Cursor()
		}
	}
	p.Rows = rows
	if err := attachLabels(ctx, db, u, rows); err != nil {
		return Page{}, err
	}
	return p, nil
}

// SQL returns the text of the main query Search runs for f, so a benchmark can
// time the bare query through database/sql and compare.
func SQL(ctx context.Context, db bun.IDB, u *store.User, f Filter) (string, error) {
	st, err := chooseStrategy(ctx, db, u, f)
	if err != nil {
		return "", err
	}
	q, _, _, err := query(db, u, f, st)
	if err != nil {
		return "", err
	}
	return q.String(), nil
}

func pageLimit(f Filter) int {
	if f.Limit <= 0 || f.Limit > 500 {
		return PageSize
	}
	return f.Limit
}

// strategy is how the main query finds its rows.
type strategy int

const (
	// walk leaves the plan to PostgreSQL: for no search, or a search that
	// matches many studies, it walks the (sort date, id) index and stops at
	// the page size.
	walk strategy = iota
	// sorted makes PostgreSQL collect the few matching studies through the
	// trigram index and sort them. Its LIMIT costing otherwise likes walking
	// the date index past 100,000 rows for a match set of a few hundred.
	sorted
	// exact is a search that is a patient ID or accession number as stored.
	exact
)

// sortedBelow is the estimated match count under which sorted beats walk.
// Walking reads about limit*N/m rows to find limit of m matches among N
// studies, sorting reads m: they cost the same at m = sqrt(limit*N), about
// 7,000 at a million studies. Below 1,000 matches sorting always wins.
func sortedBelow(ctx context.Context, db bun.IDB, limit int) (float64, error) {
	n, err := studyCount(ctx, db)
	if err != nil {
		return 0, err
	}
	return max(1000, math.Sqrt(float64(limit+1)*n)), nil
}

// studyCount is PostgreSQL's row estimate of studies (pg_class.reltuples),
// read at most once a minute: an order of magnitude is all sortedBelow needs.
func studyCount(ctx context.Context, db bun.IDB) (float64, error) {
	countMu.Lock()
	defer countMu.Unlock()
	if time.Since(countAt) < time.Minute {
		return countVal, nil
	}
	var n float64
	if err := db.NewRaw(`SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'studies'::regclass`).Scan(ctx, &n); err != nil {
		return 0, err
	}
	countVal, countAt = n, time.Now()
	return n, nil
}

var (
	countMu  sync.Mutex
	countAt  time.Time
	countVal float64
)

func chooseStrategy(ctx context.Context, db bun.IDB, u *store.User, f Filter) (strategy, error) {
	toks := Tokens(f.Query)
	if len(toks) == 0 {
		return walk, nil
	}
	if len(toks) == 1 && strings.ContainsAny(toks[0], "0123456789") {
		q := scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("1"), u, f)
		ok, err := q.Where(exactCond, bun.In(idForms(toks[0])), bun.In(idForms(toks[0]))).Exists(ctx)
		if err != nil || ok {
			return exact, err
		}
	}
	// PostgreSQL's own estimate of the match count (trigram statistics),
	// which is good to a factor of about two here.
	q := filtered(scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("1"), u, f), f, walk)
	var plan string
	if err := db.NewRaw("EXPLAIN (FORMAT JSON) ?", q).Scan(ctx, &plan); err != nil {
		return walk, err
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &out); err != nil {
		return walk, fmt.Errorf("studies: read estimate: %w", err)
	}
	if len(out) == 0 {
		return walk, nil
	}
	below, err := sortedBelow(ctx, db, pageLimit(f))
	if err != nil {
		return walk, err
	}
	if out[0].Plan.Rows < below {
		return sorted, nil
	}
	return walk, nil
}

const exactCond = "(s.accession IN (?) OR s.patient_id = ANY(ARRAY(SELECT id FROM patients WHERE patient_id IN (?))))"

// idForms is an ID as typed and in capitals (IDs are mostly stored so).
func idForms(tok string) []string {
	if up := strings.ToUpper(tok); up != tok {
		return []string{tok, up}
	}
	return []string{tok}
}

// scoped applies the department rule: a department user sees their
// department whatever the request says; only the service desk may pick one
// (or see all).
func scoped(q *bun.SelectQuery, u *store.User, f Filter) *bun.SelectQuery {
	switch {
	case !u.IsServiceDesk() && u.DepartmentID != nil:
		return q.Where("s.department_id = ?", *u.DepartmentID)
	case !u.IsServiceDesk():
		return q.Where("false")
	case f.DepartmentID > 0:
		return q.Where("s.department_id = ?", f.DepartmentID)
	}
	return q
}

// filtered adds the search and the filters.
func filtered(q *bun.SelectQuery, f Filter, st strategy) *bun.SelectQuery {
	if st == exact {
		tok := Tokens(f.Query)[0]
		q = q.Where(exactCond, bun.In(idForms(tok)), bun.In(idForms(tok)))
	} else {
		for _, tok := range Tokens(f.Query) {
			q = q.Where("s.search LIKE '%' || rp_fold(?) || '%'", store.EscapeLike(tok))
		}
	}
	if f.From != nil {
		q = q.Where(sortKey+" >= ?::date", f.From.Format(time.DateOnly))
	}
	if f.To != nil {
		q = q.Where(sortKey+" <= ?::date", f.To.Format(time.DateOnly)).Where("s.study_date IS NOT NULL")
	}
	if f.Modality != "" {
		q = q.Where("s.modalities @> ARRAY[?]::text[]", f.Modality)
	}
	switch f.Report {
	case ReportYes:
		q = q.Where("s.report_status <> 'none'")
	case ReportNo:
		q = q.Where("s.report_status = 'none'")
	}
	return q
}

func query(db bun.IDB, u *store.User, f Filter, st strategy) (q *bun.SelectQuery, backward bool, limit int, err error) {
	limit = pageLimit(f)
	// "+ 0" hides the sort key from the index so the planner cannot walk it.
	key := sortKey
	if st != walk {
		key = sortKey + " + 0"
	}
	q = db.NewSelect().
		TableExpr("studies AS s").
		Join("JOIN patients AS p ON p.id = s.patient_id").
		Join("JOIN departments AS d ON d.id = s.department_id").
		ColumnExpr("s.id, s.department_id, d.name AS department_name, s.patient_id AS patient_row_id").
		ColumnExpr("p.patient_id, p.family_name, p.given_name, p.birth_date").
		ColumnExpr("s.study_date, s.modalities, s.description, s.accession, s.num_instances, s.report_status")

	q = filtered(scoped(q, u, f), f, st)

	switch {
	case f.Before != "":
		day, id, err := decodeCursor(f.Before)
		if err != nil {
			return nil, false, 0, err
		}
		backward = true
		q = q.Where("("+key+", s.id) > (?::date, ?)", day, id).
			OrderExpr(key + " ASC, s.id ASC")
	case f.After != "":
		day, id, err := decodeCursor(f.After)
		if err != nil {
			return nil, false, 0, err
		}
		q = q.Where("("+key+", s.id) < (?::date, ?)", day, id).
			OrderExpr(key + " DESC, s.id DESC")
	default:
		q = q.OrderExpr(key + " DESC, s.id DESC")
	}
	return q.Limit(limit + 1), backward, limit, nil
}

// Tokens splits a search into the words that must all appear (name parts,
// patient ID, accession). Commas separate like spaces: "Müller, Anna".
func Tokens(q string) []string {
	q = strings.TrimSpace(q)
	if len(q) > MaxQueryLen {
		q = q[:MaxQueryLen]
	}
	f := strings.FieldsFunc(q, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ';' })
	if len(f) > 6 {
		f = f[:6]
	}
	return f
}

// attachLabels loads the labels of the rows: department users see the labels
// set for them or for one of their groups; admins and the service desk see all.
func attachLabels(ctx context.Context, db bun.IDB, u *store.User, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		at[r.ID] = i
	}
	q := db.NewSelect().
		TableExpr("study_labels AS sl").
		Join("JOIN labels AS l ON l.id = sl.label_id").
		ColumnExpr("DISTINCT sl.study_id, l.name, l.color").
		Where("sl.study_id IN (?)", bun.In(ids)).
		OrderExpr("sl.study_id, l.name")
	if !u.IsServiceDesk() && !u.IsAdmin() {
		q = q.Where("(sl.user_id = ? OR sl.group_id IN (SELECT group_id FROM group_members WHERE user_id = ?))", u.ID, u.ID)
	}
	var labels []Label
	if err := q.Scan(ctx, &labels); err != nil {
		return err
	}
	for _, l := range labels {
		i := at[l.StudyID]
		rows[i].Labels = append(rows[i].Labels, l)
	}
	return nil
}

// Selected is a study kept in the selection (checked earlier, or brought back
// by PRINT AGAIN) with the patient it belongs to.
type Selected struct {
	ID           int64 `bun:"id"`
	PatientRowID int64 `bun:"patient_row_id"`
}

// MaxSelection bounds how many studies one selection carries.
const MaxSelection = 50

// Selection returns those of ids that u may see, in id order; unknown ids and
// other departments' studies are dropped silently (the list never confirms
// they exist).
func Selection(ctx context.Context, db bun.IDB, u *store.User, ids []int64) ([]Selected, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxSelection {
		ids = ids[:MaxSelection]
	}
	q := db.NewSelect().TableExpr("studies AS s").
		ColumnExpr("s.id, s.patient_id AS patient_row_id").
		Where("s.id IN (?)", bun.In(ids)).
		OrderExpr("s.id")
	if !u.IsServiceDesk() {
		if u.DepartmentID == nil {
			return nil, nil
		}
		q = q.Where("s.department_id = ?", *u.DepartmentID)
	}
	var out []Selected
	if err := q.Scan(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

var cursorRe = regexp.MustCompile(`^(\d{8}|0)-(\d{1,19})$`)

// A cursor is "YYYYMMDD-id", or "0-id" for a study without a date.
func encodeCursor(day *time.Time, id int64) string {
	d := "0"
	if day != nil {
		d = day.Format("20060102")
	}
	return d + "-" + strconv.FormatInt(id, 10)
}

func decodeCursor(c string) (day string, id int64, err error) {
	m := cursorRe.FindStringSubmatch(c)
	if m == nil {
		return "", 0, ErrCursor
	}
	id, err = strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return "", 0, ErrCursor
	}
	if m[1] == "0" {
		return "-infinity", id, nil
	}
	t, err := time.Parse("20060102", m[1])
	if err != nil {
		return "", 0, ErrCursor
	}
	return t.Format(time.DateOnly), id, nil
}
