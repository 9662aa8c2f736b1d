// Package studies answers the staff study list: search, filters, department
// scoping and keyset pagination over (sort date, id), newest first. It is kept
// apart from the handler so the benchmark can call Search directly.
package studies

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

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
// the expression of the studies_dept_walk and studies_walk indexes exactly.
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
	// LabelIDs ("Contains labels"): only studies carrying one of these
	// labels for the user or one of their groups.
	LabelIDs []int64

	viewer int64 // the user whose labels count (set by find)
}

// MaxLabels bounds the labels one filter names.
const MaxLabels = 10

// Label is a label shown on a study row.
type Label struct {
	ID        int64  `bun:"id"` // the study_labels row (to take it off)
	StudyID   int64  `bun:"study_id"`
	LabelID   int64  `bun:"label_id"`
	Name      string `bun:"name"`
	Color     string `bun:"color"`
	GroupName string `bun:"group_name"` // "" when set for the user
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
	r, err := find(ctx, db, u, f, defaults)
	if err != nil {
		return Page{}, err
	}
	rows, limit := r.rows, r.limit
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	var p Page
	if r.backward {
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

// SQL returns the text of the main query whose rows Search shows for f (the
// last one it ran), so a benchmark can time the bare query through
// database/sql and compare.
func SQL(ctx context.Context, db bun.IDB, u *store.User, f Filter) (string, error) {
	r, err := find(ctx, db, u, f, defaults)
	if err != nil {
		return "", err
	}
	return r.sql, nil
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
	// matches many studies, it walks the covering (sort date, id) index and
	// stops at the page size.
	walk strategy = iota
	// budget walks at most walkBudget index entries newest first (index
	// only: the index carries every column a filter reads) and keeps the
	// matches. It is right whenever it fills the page; otherwise the
	// matches are rare and sorted (or walk) runs.
	budget
	// sorted makes PostgreSQL collect the few matching studies through the
	// trigram index and sort them. Its LIMIT costing otherwise likes walking
	// the date index past 100,000 rows for a match set of a few hundred.
	sorted
	// exact is a search that is a patient ID or accession number as stored.
	exact
	// listed orders and filters the studies of a given id list: all that
	// match the search words when they are few (see fewCap).
	listed
	// intersect is sorted for a search with a common label (more than
	// labelSortCap labelled studies): the label is matched on
	// studies.label_ids, whose GIN index gives PostgreSQL a bitmap to AND
	// with the trigram bitmap of the words, so the table is read for the
	// studies having both (about 100 for a common label with "Müller" at a
	// million studies) rather than for every study with the words (5,000
	// heap pages). label_ids holds the labels on the study for anyone: the
	// few rows left are checked against study_labels for the viewer.
	intersect
)

// plan is a strategy with its parameters.
type plan struct {
	st      strategy
	entries int     // budget: index entries to read
	ids     []int64 // listed: the candidates
}

// fewCap is the number of studies matching the search words (in scope,
// after the cursor) up to which they are all collected through the trigram
// index and sorted in full: a heap visit each, under a millisecond. Most
// searches are a family name and end here.
const fewCap = 500

// walkBudget bounds the index entries a budget walk reads: about 2 ms at
// 0.1 µs an entry. A search it cannot fill a page from matches fewer than
// one study in 400, about 2,500 per million, which sorted collects in a few
// ms more. Walking first spares the planner's trigram estimate, which is
// off by 50 times either way for names on 0.1–1% of the archive.
const walkBudget = 20000

// limits are fewCap, walkBudget and labelSortCap (smaller in tests, to
// reach every path).
type limits struct{ few, budget, labelSort int }

var defaults = limits{fewCap, walkBudget, labelSortCap}

// find runs the strategies in turn: no search walks; an ID or accession
// that exists is exact; a search with few matches is listed; else the
// budget walk, then sorted or walk.
func find(ctx context.Context, db bun.IDB, u *store.User, f Filter, lim limits) (result, error) {
	f.viewer = u.ID
	if len(f.LabelIDs) > MaxLabels {
		f.LabelIDs = f.LabelIDs[:MaxLabels]
	}
	if len(f.LabelIDs) > 0 {
		// Labelled studies are usually few: their ids come from the label
		// index and are listed (a primary-key visit each, then sorted).
		// Past labelSortCap the date walk, checking each entry against a
		// hash of the labelled ids, meets a page sooner.
		ids, err := labelled(ctx, db, f, lim.labelSort)
		if err != nil {
			return result{}, err
		}
		if len(ids) <= lim.labelSort {
			g := f
			g.LabelIDs = nil // the ids are exactly the labelled studies
			return run(ctx, db, u, g, plan{st: listed, ids: ids})
		}
	}
	toks := Tokens(f.Query)
	if len(toks) == 0 {
		return run(ctx, db, u, f, plan{st: walk})
	}
	if len(toks) == 1 && strings.ContainsAny(toks[0], "0123456789") {
		q := scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("1"), u, f)
		ok, err := q.Where(exactCond, bun.In(idForms(toks[0])), bun.In(idForms(toks[0]))).Exists(ctx)
		if err != nil {
			return result{}, err
		}
		if ok {
			return run(ctx, db, u, f, plan{st: exact})
		}
	}
	est, err := estimates(ctx, db, u, f)
	if err != nil {
		return result{}, err
	}
	// Each step is tried only when the estimate gives it a fair chance:
	// estimates are good to a factor of about two, and a step that fails
	// costs at most a couple of milliseconds.
	if est.mt <= 4*float64(lim.few) {
		ids, err := candidates(ctx, db, u, f, lim.few)
		if err != nil {
			return result{}, err
		}
		if len(ids) <= lim.few {
			return run(ctx, db, u, f, plan{st: listed, ids: ids})
		}
	}
	limit := float64(pageLimit(f) + 1)
	found := -1.0 // matches the budget walk found, when it ran
	if est.mf/max(est.n, 1)*float64(lim.budget) >= limit/4 {
		r, err := run(ctx, db, u, f, plan{st: budget, entries: lim.budget})
		if err != nil || len(r.rows) > r.limit {
			return r, err
		}
		found = float64(len(r.rows))
	}
	st := fallback(est, found, lim.budget, limit)
	if st == sorted && len(f.LabelIDs) > 0 {
		// Only a common label comes here (a rare one was listed above).
		st = intersect
	}
	return run(ctx, db, u, f, plan{st: st})
}

// estimated are PostgreSQL's estimates of the studies in scope (n), of
// those with the search words (mt) and of those also passing the filters
// (mf).
type estimated struct{ n, mt, mf float64 }

func estimates(ctx context.Context, db bun.IDB, u *store.User, f Filter) (estimated, error) {
	base := func() *bun.SelectQuery {
		return scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("1"), u, f)
	}
	var e estimated
	var err error
	if e.n, err = estimate(ctx, db, base()); err != nil {
		return e, err
	}
	if e.mt, err = estimate(ctx, db, tokenConds(base(), f)); err != nil {
		return e, err
	}
	if f.From == nil && f.To == nil && f.Modality == "" && f.Report == ReportAny && len(f.LabelIDs) == 0 {
		e.mf = e.mt // no filters: spare a round trip
		return e, nil
	}
	// The label filter is estimated in its semi-join form: PostgreSQL
	// estimates the hashed check of the walk form ("OR false") as half of
	// the rows whatever the labels, which made a common label with a name
	// run a budget walk (hashing every labelled id) bound to fail.
	if e.mf, err = estimate(ctx, db, filtered(base(), f, sorted)); err != nil {
		return e, err
	}
	return e, nil
}

// candidates returns up to limit+1 ids of the studies in scope and date
// range after the cursor that contain the search words, in no order: all of
// them when there are no more than limit.
func candidates(ctx context.Context, db bun.IDB, u *store.User, f Filter, limit int) ([]int64, error) {
	q := dateRange(tokenConds(scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("s.id"), u, f), f), f)
	for _, c := range []struct{ cur, op string }{{f.After, "<"}, {f.Before, ">"}} {
		if c.cur == "" {
			continue
		}
		day, id, err := decodeCursor(c.cur)
		if err != nil {
			return nil, err
		}
		q = q.Where("("+sortKey+", s.id) "+c.op+" (?::date, ?)", day, id)
	}
	var ids []int64
	if err := q.Limit(limit+1).Scan(ctx, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// result is what one main query gave.
type result struct {
	st       strategy
	rows     []Row
	sql      string
	backward bool
	limit    int
}

func run(ctx context.Context, db bun.IDB, u *store.User, f Filter, pl plan) (result, error) {
	q, backward, limit, err := query(db, u, f, pl)
	if err != nil {
		return result{}, err
	}
	r := result{st: pl.st, sql: q.String(), backward: backward, limit: limit}
	if err := q.Scan(ctx, &r.rows); err != nil {
		return result{}, err
	}
	return r, nil
}

// fallback picks sorted or walk for a search the steps before could not
// serve. sorted visits the table for each study with the search words (mt,
// about 2 µs each); walk reads covering index entries (about 0.1 µs each)
// until it has a page of studies that also pass the filters, at most all n
// in scope. How many entries that takes comes from the matches the budget
// walk found among its entries when it ran (a measure, not an estimate),
// else from the estimate mf. A frequent part of a name with a rare filter
// walks; a rare name, or one with rare filters, is sorted.
func fallback(est estimated, found float64, entries int, limit float64) strategy {
	walkEntries := limit * est.n / max(est.mf, 1)
	if found >= 0 {
		walkEntries = limit * float64(entries) / max(found, 0.5)
	}
	if 2*est.mt < 0.1*min(est.n, walkEntries) {
		return sorted
	}
	return walk
}

// estimate is PostgreSQL's estimate of the rows q returns.
func estimate(ctx context.Context, db bun.IDB, q *bun.SelectQuery) (float64, error) {
	var plan string
	if err := db.NewRaw("EXPLAIN (FORMAT JSON) ?", q).Scan(ctx, &plan); err != nil {
		return 0, err
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &out); err != nil {
		return 0, fmt.Errorf("studies: read estimate: %w", err)
	}
	if len(out) == 0 {
		return 0, nil // no estimate: fallback then walks
	}
	return out[0].Plan.Rows, nil
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

// tokenConds adds the search words: each must appear in studies.search.
func tokenConds(q *bun.SelectQuery, f Filter) *bun.SelectQuery {
	for _, tok := range Tokens(f.Query) {
		q = q.Where("s.search LIKE '%' || rp_fold(?) || '%'", store.EscapeLike(tok))
	}
	return q
}

// dateRange adds the study date filter (on the sort key, so a walk narrows
// its index range).
func dateRange(q *bun.SelectQuery, f Filter) *bun.SelectQuery {
	if f.From != nil {
		q = q.Where(sortKey+" >= ?::date", f.From.Format(time.DateOnly))
	}
	if f.To != nil {
		q = q.Where(sortKey+" <= ?::date", f.To.Format(time.DateOnly)).Where("s.study_date IS NOT NULL")
	}
	return q
}

// labelSortCap is the number of labelled studies up to which a label filter
// lists them (a primary-key visit each, a few ms). Above it, walking
// the date index newest first and checking each entry against a hash of the
// labelled ids is cheaper: at 2,000 labelled studies among 500,000 a page
// needs about 13,000 index entries (0.1 µs each), at 20,000 only 1,300.
const labelSortCap = 2000

// labelledCond keeps the studies carrying one of f.LabelIDs for the viewer
// or one of their groups (the study_labels_label index answers it).
const labelledCond = "s.id IN (SELECT sl.study_id FROM study_labels AS sl WHERE sl.label_id IN (?) AND " + concerns + ")"

// concerns matches labels set for user ? or one of their groups.
const concerns = "(sl.user_id = ? OR sl.group_id IN (SELECT gm.group_id FROM group_members AS gm WHERE gm.user_id = ?))"

// labelCheck is labelledCond for the few rows found through label_ids: a
// look-up per row in the study_labels_study index. It is a scalar subquery
// because PostgreSQL turns an EXISTS (or IN) into a semi-join or a hashed
// subplan, either of which reads every labelled study (17,000 for a common
// label) to check 100.
const labelCheck = "coalesce((SELECT true FROM study_labels AS sl WHERE sl.study_id = s.id AND sl.label_id IN (?) AND " + concerns + " LIMIT 1), false)"

// labelled returns the ids of the studies carrying f's labels for the
// viewer: all of them when there are no more than limit, else more than
// limit ids (not all, and possibly not distinct). The rows are read without
// DISTINCT, which would hash every labelled study before the first row
// (17,000 for a common label): the limit stops the index scan, and the few
// studies labelled twice (for the user and a group) are merged here.
func labelled(ctx context.Context, db bun.IDB, f Filter, limit int) ([]int64, error) {
	var ids []int64
	if err := labelledQuery(db, f).Limit(limit+1).Scan(ctx, &ids); err != nil {
		return nil, err
	}
	if len(ids) > limit {
		return ids, nil
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// labelledQuery selects the ids of the studies carrying f's labels for the
// viewer (a study labelled twice comes twice).
func labelledQuery(db bun.IDB, f Filter) *bun.SelectQuery {
	return db.NewSelect().TableExpr("study_labels AS sl").ColumnExpr("sl.study_id").
		Where("sl.label_id IN (?)", bun.In(f.LabelIDs)).Where(concerns, f.viewer, f.viewer)
}

// filtered adds the search and the filters. Every column read here is in
// the covering sort indexes, so a walk never visits the table (the label
// filter reads the label index).
func filtered(q *bun.SelectQuery, f Filter, st strategy) *bun.SelectQuery {
	if len(f.LabelIDs) > 0 {
		if st == walk || st == budget {
			// Walking the date index, each entry is checked against a hash
			// of the labelled ids (a hashed SubPlan, built once from the
			// label index): "OR false" keeps PostgreSQL from turning the
			// IN into a semi-join, which would give up the index order.
			q = q.Where("("+labelledCond+" OR false)", bun.In(f.LabelIDs), f.viewer, f.viewer)
		} else if st == intersect {
			q = q.Where("s.label_ids && ?::bigint[]", pgdialect.Array(f.LabelIDs)).
				Where(labelCheck, bun.In(f.LabelIDs), f.viewer, f.viewer)
		} else {
			q = q.Where(labelledCond, bun.In(f.LabelIDs), f.viewer, f.viewer)
		}
	}
	if st == exact {
		tok := Tokens(f.Query)[0]
		q = q.Where(exactCond, bun.In(idForms(tok)), bun.In(idForms(tok)))
	} else {
		q = tokenConds(q, f)
	}
	q = dateRange(q, f)
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

// query builds the main query: an inner one finds the page's study ids
// (for walk and budget from the covering index alone), the outer one joins
// the patient and department for those limit+1 rows only.
func query(db bun.IDB, u *store.User, f Filter, pl plan) (q *bun.SelectQuery, backward bool, limit int, err error) {
	limit, st := pageLimit(f), pl.st
	// "+ 0" hides the sort key from the index so the planner cannot walk it.
	key := sortKey
	if st == sorted || st == exact || st == listed || st == intersect {
		key = sortKey + " + 0"
	}
	var cursor string
	var day string
	var id int64
	order := " DESC"
	switch {
	case f.Before != "":
		if day, id, err = decodeCursor(f.Before); err != nil {
			return nil, false, 0, err
		}
		backward, cursor, order = true, ">", " ASC"
	case f.After != "":
		if day, id, err = decodeCursor(f.After); err != nil {
			return nil, false, 0, err
		}
		cursor = "<"
	}
	sorting := func(q *bun.SelectQuery, key string) *bun.SelectQuery {
		if cursor != "" {
			q = q.Where("("+key+", s.id) "+cursor+" (?::date, ?)", day, id)
		}
		return q.OrderExpr(key + order + ", s.id" + order)
	}

	ids := db.NewSelect().ColumnExpr("s.id, s.study_date")
	if st == budget {
		// The newest entries in scope (and date range) after the
		// cursor; the filters then apply to those alone.
		// The key is passed out as a column so that PostgreSQL sees the
		// window is already in order and stops at the page size.
		window := sorting(dateRange(scoped(db.NewSelect().
			TableExpr("studies AS s").
			ColumnExpr("s.id, s.study_date, s.search, s.modalities, s.report_status").
			ColumnExpr(sortKey+" AS sort_key"), u, f), f), sortKey).
			Limit(pl.entries)
		ids = ids.TableExpr("(?) AS s", window)
		ids = filtered(ids, f, st).OrderExpr("s.sort_key" + order + ", s.id" + order)
	} else {
		ids = ids.TableExpr("studies AS s")
		if st == listed {
			// bun.In of no ids is NULL: no rows, as it should be.
			ids = ids.Where("s.id IN (?)", bun.In(pl.ids))
		}
		ids = sorting(filtered(scoped(ids, u, f), f, st), key)
	}
	ids = ids.Limit(limit + 1)

	q = db.NewSelect().
		TableExpr("(?) AS k", ids).
		Join("JOIN studies AS s ON s.id = k.id").
		Join("JOIN patients AS p ON p.id = s.patient_id").
		Join("JOIN departments AS d ON d.id = s.department_id").
		ColumnExpr("s.id, s.department_id, d.name AS department_name, s.patient_id AS patient_row_id").
		ColumnExpr("p.patient_id, p.family_name, p.given_name, p.birth_date").
		ColumnExpr("s.study_date, s.modalities, s.description, s.accession, s.num_instances, s.report_status").
		OrderExpr(sortKey + order + ", s.id" + order)
	return q, backward, limit, nil
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

// attachLabels loads the labels of the rows that concern u: those set for u
// or for one of u's groups (for every role: a label is meant for someone).
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
		Join("LEFT JOIN groups AS g ON g.id = sl.group_id").
		ColumnExpr("sl.id, sl.study_id, sl.label_id, l.name, l.color, coalesce(g.name, '') AS group_name").
		Where("sl.study_id IN (?)", bun.In(ids)).
		Where(concerns, u.ID, u.ID).
		OrderExpr("sl.study_id, lower(l.name), sl.id")
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

// LabelsOf returns the labels of study id that concern u (as the study list
// shows them), for refreshing one row's labels.
func LabelsOf(ctx context.Context, db bun.IDB, u *store.User, id int64) ([]Label, error) {
	rows := []Row{{ID: id}}
	if err := attachLabels(ctx, db, u, rows); err != nil {
		return nil, err
	}
	return rows[0].Labels, nil
}
