package buckets

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
)

// ListLimit is the page size of Status Forwarding.
const ListLimit = 50

// ListFilter is what Status Forwarding filters on. Zero values filter nothing.
type ListFilter struct {
	// Department limits to one department; 0 means every department the
	// user may see (the service desk: all; anyone else: their own).
	Department int64
	State      string     // active, blocked, revoked, expired ("" any)
	From, To   *time.Time // print date, inclusive calendar days of RADPASS_TIMEZONE (their year, month and day count)
	Patient    string     // patient name or ID; an anonymized bucket matches its 6-digit number only
	CreatedBy  int64      // user id of the staff member who printed
	Label      int64      // a label on one of the bucket's studies
	After      string     // cursor of the last row of the previous page
	Limit      int        // ListLimit when 0
	// ID limits to one bucket (Row); 0 means any.
	ID int64
}

// ListStudy is one study of a listed bucket.
type ListStudy struct {
	BucketID    int64      `bun:"bucket_id"`
	ID          int64      `bun:"id"`
	StudyDate   *time.Time `bun:"study_date"`
	Description string     `bun:"description"`
	Modalities  []string   `bun:"modalities,array"`
}

// ListRow is one bucket as Status Forwarding shows it. Only the HMAC of the
// reference number is stored, so a row is named by its id and print date.
type ListRow struct {
	ID             int64       `bun:"id"`
	DepartmentID   int64       `bun:"department_id"`
	DepartmentName string      `bun:"department_name"`
	PatientRowID   int64       `bun:"patient_id"`
	PatientName    string      `bun:"patient_name"` // empty for anonymized buckets
	PatientNumber  string      `bun:"patient_number"`
	Anonymized     bool        `bun:"anonymized"`
	AnonNumber     string      `bun:"anon_number"`
	CreatedByID    int64       `bun:"created_by"`
	CreatedByName  string      `bun:"created_by_name"`
	CreatedAt      time.Time   `bun:"created_at"`
	Verification   string      `bun:"verification"`
	Scope          string      `bun:"scope"`
	ValidUntil     time.Time   `bun:"valid_until"`
	State          string      `bun:"state"`    // as stored
	Effective      string      `bun:"-"`        // what a person reads: expired computed from ValidUntil
	Failures       int         `bun:"failures"` // consecutive failed checks
	LastAccessAt   *time.Time  `bun:"last_access_at"`
	Blocked        bool        `bun:"blocked"`
	Studies        []ListStudy `bun:"-"`
}

// ListPage is one page of Status Forwarding.
type ListPage struct {
	Rows []*ListRow
	Next string // cursor of the next page, "" on the last
}

// ErrCursor is a cursor that this code did not write.
var ErrCursor = errors.New("buckets: bad cursor")

// The order is blocked buckets first, then the rest, each newest print
// first: (blocked DESC, created_at DESC, id DESC). A cursor carries the
// phase and the (created_at, id) of the last row; each phase is one index
// range walk (buckets_sf_* indexes), so a page costs the same at any depth
// and at a million buckets.
type cursor struct {
	blocked bool
	at      time.Time
	id      int64
}

func (c cursor) encode() string {
	ph := "r"
	if c.blocked {
		ph = "b"
	}
	return base64.RawURLEncoding.EncodeToString([]byte(ph + "." + strconv.FormatInt(c.at.UnixMicro(), 10) + "." + strconv.FormatInt(c.id, 10)))
}

func decodeListCursor(s string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, ErrCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || (parts[0] != "b" && parts[0] != "r") {
		return cursor{}, ErrCursor
	}
	us, err1 := strconv.ParseInt(parts[1], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return cursor{}, ErrCursor
	}
	return cursor{blocked: parts[0] == "b", at: time.UnixMicro(us).UTC(), id: id}, nil
}

// List is one page of the buckets u may see, filtered by f. Staff and admins
// see their department, the service desk every department (or the one in
// f.Department). A department u may not see gives an empty page.
func (s *Service) List(ctx context.Context, u *database.User, f ListFilter) (*ListPage, error) {
	return s.list(ctx, u, f, nil)
}

// ListSQL runs List and returns the SQL of every statement it ran, in
// order (the benchmark times the same statements bare).
func (s *Service) ListSQL(ctx context.Context, u *database.User, f ListFilter) ([]string, error) {
	var out []string
	_, err := s.list(ctx, u, f, &out)
	return out, err
}

func (s *Service) list(ctx context.Context, u *database.User, f ListFilter, rec *[]string) (*ListPage, error) {
	return s.listWith(ctx, u, f, rec, labelDefaults)
}

// listWith is list with the label thresholds given (tests make them small
// to reach every way the label filter runs).
func (s *Service) listWith(ctx context.Context, u *database.User, f ListFilter, rec *[]string, lim labelLimits) (*ListPage, error) {
	if u == nil {
		return &ListPage{}, nil
	}
	var dept int64 // 0: all departments (service desk only)
	switch {
	case u.IsServiceDesk():
		dept = f.Department
	case u.DepartmentID != nil:
		dept = *u.DepartmentID
		if f.Department != 0 && f.Department != dept {
			return &ListPage{}, nil
		}
	default:
		return &ListPage{}, nil
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = ListLimit
	}
	var cur *cursor
	if f.After != "" {
		c, err := decodeListCursor(f.After)
		if err != nil {
			return nil, err
		}
		cur = &c
	}
	today := s.Today()

	// Phases: with a state filter there is one (blocked or not); without,
	// blocked rows come first, then the others. One bucket is one phase.
	var phases []phase
	switch {
	case f.ID < 0:
		return &ListPage{}, nil
	case f.ID > 0 && f.State == "":
		phases = []phase{{both: true}}
	case f.State == database.BucketBlocked:
		phases = []phase{{blocked: true}}
	case f.State == "":
		phases = []phase{{blocked: true}, {}}
	case f.State == database.BucketActive, f.State == database.BucketRevoked, f.State == database.BucketExpired:
		phases = []phase{{}}
	default:
		return &ListPage{}, nil
	}
	var lp *labelPlan
	if f.Label != 0 {
		var err error
		if lp, err = s.planLabel(ctx, f.Label, lim, rec); err != nil {
			return nil, err
		}
		if lp.listed && f.State == "" {
			// The listed buckets are few: one query sorts them all,
			// blocked first, rather than reading them once per phase.
			phases = []phase{{both: true}}
		}
	}
	var rows []*ListRow
	for _, ph := range phases {
		if cur != nil && cur.blocked != ph.blocked && ph.blocked {
			continue // the cursor is already past the blocked rows
		}
		var after *cursor
		if cur != nil && (cur.blocked == ph.blocked || ph.both) {
			after = cur
		}
		got, err := s.listPhase(ctx, dept, f, lp, ph, after, today, limit+1-len(rows), rec)
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
		if len(rows) > limit {
			break
		}
	}
	page := &ListPage{Rows: rows}
	if len(rows) > limit {
		page.Rows = rows[:limit]
		last := page.Rows[limit-1]
		page.Next = cursor{blocked: last.Blocked, at: last.CreatedAt, id: last.ID}.encode()
	}
	if err := s.listStudies(ctx, page.Rows, rec); err != nil {
		return nil, err
	}
	for _, r := range page.Rows {
		b := database.Bucket{State: r.State, ValidUntil: r.ValidUntil}
		r.Effective = b.EffectiveState(today)
	}
	return page, nil
}

// labelCap is the number of buckets holding a label up to which their ids
// are collected and the page is made of them alone (a primary-key visit
// each, then sorted). Above it the page walks newest first and checks each
// bucket against the labelled ones, which meets a page within about
// 51 × buckets / labelled entries: 12,000 at 2,000 labelled of 500,000.
const labelCap = 2000

// labelHashMax is PostgreSQL's estimate of the labelled buckets up to which
// the walk checks a hash of them (built from the index alone, about 0.5 µs
// a bucket, once per phase); a label on more buckets is checked bucket by
// bucket (index probes, about 4 µs), as the walk then meets a page sooner.
// At 500,000 buckets in a department the two cost the same near 10,000
// labelled buckets (a page: 51 × 500,000 / 10,000 entries walked).
const labelHashMax = 8000

// labelLimits are labelCap and labelHashMax.
type labelLimits struct {
	cap     int
	hashMax float64
}

var labelDefaults = labelLimits{labelCap, labelHashMax}

// labelPlan is how the label filter runs: ids lists the labelled buckets
// (when listed), hashed picks the hash over the probe per bucket.
type labelPlan struct {
	label  int64
	listed bool
	ids    []int64
	hashed bool
}

// labelledBuckets selects the ids of the buckets holding a study with the
// label (a bucket with two such studies comes twice).
func (s *Service) labelledBuckets(label int64) *bun.SelectQuery {
	return s.DB.NewSelect().TableExpr("study_labels AS sl").
		Join("JOIN bucket_studies AS bs ON bs.study_id = sl.study_id").
		ColumnExpr("bs.bucket_id").Where("sl.label_id = ?", label)
}

// planLabel collects up to labelCap+1 labelled bucket ids (read without
// DISTINCT so that the limit stops the scan) and lists them when they are
// all; otherwise it asks PostgreSQL how many there are.
func (s *Service) planLabel(ctx context.Context, label int64, lim labelLimits, rec *[]string) (*labelPlan, error) {
	lp := &labelPlan{label: label}
	q := s.labelledBuckets(label).Limit(lim.cap + 1)
	if rec != nil {
		*rec = append(*rec, q.String())
	}
	var ids []int64
	if err := q.Scan(ctx, &ids); err != nil {
		return nil, err
	}
	if len(ids) <= lim.cap {
		slices.Sort(ids)
		lp.listed, lp.ids = true, slices.Compact(ids)
		return lp, nil
	}
	var plan string
	if err := s.DB.NewRaw("EXPLAIN (FORMAT JSON) ?", s.labelledBuckets(label)).Scan(ctx, &plan); err != nil {
		return nil, err
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(plan), &out); err != nil {
		return nil, err
	}
	lp.hashed = len(out) == 1 && out[0].Plan.Rows <= lim.hashMax
	return lp, nil
}

// phase is the blocked buckets, or the others, or (both) all of them in
// the list's order.
type phase struct{ blocked, both bool }

// listPhase reads up to n rows of one phase in order.
func (s *Service) listPhase(ctx context.Context, dept int64, f ListFilter, lp *labelPlan, ph phase, after *cursor, today time.Time, n int, rec *[]string) ([]*ListRow, error) {
	var rows []*ListRow
	// With a label, an inner query finds the page's bucket ids (from the
	// walk index alone when no patient is asked for) and the outer one
	// reads those rows only (joined to all the buckets of a listed label,
	// the patients would be hashed whole).
	inner := lp != nil
	var ids *bun.SelectQuery
	if inner {
		ids = s.DB.NewSelect().TableExpr("buckets AS b").ColumnExpr("b.id")
	}
	q := s.DB.NewSelect().TableExpr("buckets AS b").
		ColumnExpr("b.id, b.department_id, d.name AS department_name, b.patient_id").
		ColumnExpr("CASE WHEN b.anonymized THEN '' ELSE concat_ws(', ', nullif(p.family_name, ''), nullif(p.given_name, '')) END AS patient_name").
		ColumnExpr("CASE WHEN b.anonymized THEN '' ELSE p.patient_id END AS patient_number").
		ColumnExpr("b.anonymized, b.anon_number, coalesce(b.created_by, 0) AS created_by, " + creatorName + " AS created_by_name").
		ColumnExpr("b.created_at, b.verification, b.scope, b.valid_until, b.state, b.failures, b.last_access_at").
		ColumnExpr("b.state = 'blocked' AS blocked").
		Join("JOIN patients AS p ON p.id = b.patient_id").
		Join("JOIN departments AS d ON d.id = b.department_id").
		Join(creatorJoins)
	outer := q
	if inner {
		q = ids
	}
	if dept != 0 {
		q = q.Where("b.department_id = ?", dept)
	}
	if f.ID != 0 {
		q = q.Where("b.id = ?", f.ID)
	}
	switch {
	case ph.both:
	case ph.blocked:
		q = q.Where("b.state = 'blocked'")
	case f.State == database.BucketActive:
		q = q.Where("b.state = 'active' AND b.valid_until >= ?", today)
	case f.State == database.BucketExpired:
		q = q.Where("b.state = 'active' AND b.valid_until < ?", today)
	case f.State == database.BucketRevoked:
		q = q.Where("b.state = 'revoked'")
	default:
		// Blocked buckets are few: the walk stays on (department_id,
		// created_at, id) and skips them.
		q = q.Where("b.state <> 'blocked'")
	}
	if f.From != nil {
		q = q.Where("b.created_at >= ?", s.dayStart(*f.From))
	}
	if f.To != nil {
		q = q.Where("b.created_at < ?", s.dayStart(f.To.AddDate(0, 0, 1)))
	}
	if f.CreatedBy != 0 {
		q = q.Where("b.created_by = ?", f.CreatedBy)
	}
	switch {
	case lp == nil:
	case lp.listed:
		// One array value (not a list of literals): shorter to plan.
		q = q.Where("b.id = ANY(?::bigint[])", pgdialect.Array(lp.ids))
	case lp.hashed:
		// "OR false" keeps PostgreSQL from turning the IN into a
		// semi-join, which would give up the walk's order: the labelled
		// ids are hashed once (a hashed SubPlan).
		q = q.Where("(b.id IN (?) OR false)", s.labelledBuckets(lp.label))
	default:
		q = q.Where("EXISTS (SELECT 1 FROM bucket_studies bs JOIN study_labels sl ON sl.study_id = bs.study_id WHERE bs.bucket_id = b.id AND sl.label_id = ?)", lp.label)
	}
	if pq := strings.TrimSpace(strings.ToValidUTF8(f.Patient, "")); pq != "" {
		if r := []rune(pq); len(r) > 100 {
			pq = string(r[:100]) // whole characters: rp_fold refuses a cut one
		}
		// A patient is found through the study list's folded trigram index
		// (name, patient ID); an anonymized bucket only by its number.
		sub := s.DB.NewSelect().TableExpr("studies AS st").ColumnExpr("st.patient_id").
			Where("st.search LIKE '%' || rp_fold(?) || '%'", database.EscapeLike(pq))
		if dept != 0 {
			sub = sub.Where("st.department_id = ?", dept)
		}
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			q = q.Where("NOT b.anonymized AND b.patient_id IN (?)", sub)
			if isSixDigits(pq) {
				q = q.WhereOr("b.anonymized AND b.anon_number = ?", pq)
			}
			return q
		})
	}
	order := "b.created_at DESC, b.id DESC"
	if ph.both {
		order = "b.state = 'blocked' DESC, " + order
	}
	switch {
	case after == nil:
	case ph.both:
		q = q.Where("(b.state = 'blocked', b.created_at, b.id) < (?, ?, ?)", after.blocked, after.at, after.id)
	default:
		q = q.Where("(b.created_at, b.id) < (?, ?)", after.at, after.id)
	}
	q = q.OrderExpr(order).Limit(n)
	if inner {
		q = outer.Join("JOIN (?) AS k ON k.id = b.id", q).OrderExpr(order)
	}
	if rec != nil {
		*rec = append(*rec, q.String())
	}
	err := q.Scan(ctx, &rows)
	return rows, err
}

func isSixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// listStudies fills the studies of the page's rows in one query.
func (s *Service) listStudies(ctx context.Context, rows []*ListRow, rec *[]string) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	byID := make(map[int64]*ListRow, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
		byID[r.ID] = r
	}
	var studies []ListStudy
	q := s.DB.NewSelect().TableExpr("bucket_studies AS bs").
		ColumnExpr("bs.bucket_id, st.id, st.study_date, st.description, st.modalities").
		Join("JOIN studies AS st ON st.id = bs.study_id").
		Where("bs.bucket_id IN (?)", bun.In(ids)).
		OrderExpr("bs.bucket_id, st.study_date DESC NULLS LAST, st.id DESC")
	if rec != nil {
		*rec = append(*rec, q.String())
	}
	if err := q.Scan(ctx, &studies); err != nil {
		return err
	}
	for _, st := range studies {
		if r := byID[st.BucketID]; r != nil {
			r.Studies = append(r.Studies, st)
		}
	}
	return nil
}

// Row is one bucket as a Status Forwarding row, if u may see it
// (ErrNotFound otherwise): what an action re-renders. It is List's row for
// the filter of that one bucket.
func (s *Service) Row(ctx context.Context, u *database.User, id int64) (*ListRow, error) {
	if id <= 0 {
		return nil, ErrNotFound
	}
	page, err := s.List(ctx, u, ListFilter{ID: id, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Rows) != 1 {
		return nil, ErrNotFound
	}
	return page.Rows[0], nil
}

// Choice is one option of a filter select.
type Choice struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
}

// ListChoices are the choices of the Status Forwarding filter for a user.
type ListChoices struct {
	Departments []database.Department // the service desk only
	Creators    []Choice              // staff of the departments u sees, by name
	Labels      []Choice              // labels of those departments ("name (CODE)" for the service desk)
}

// ListChoices returns the filter choices for u: the service desk chooses
// among every department, its staff and labels; anyone else among their
// department's (the service desk's own users are not offered to them).
func (s *Service) ListChoices(ctx context.Context, u *database.User) (*ListChoices, error) {
	out := &ListChoices{}
	desk := u.IsServiceDesk()
	scope := func(col string) (string, []any) {
		if desk {
			return "TRUE", nil
		}
		return col + " = ?", []any{u.DepartmentID}
	}
	if desk {
		var err error
		if out.Departments, err = departments.List(ctx, s.DB); err != nil {
			return nil, err
		}
	}
	w, args := scope("department_id")
	if err := s.DB.NewSelect().TableExpr("users").ColumnExpr("id, coalesce(nullif(display_name, ''), username) AS name").
		Where(w, args...).Where("role <> 'servicedesk' OR ?", desk).OrderExpr("2, 1").Limit(1000).Scan(ctx, &out.Creators); err != nil {
		return nil, err
	}
	w, args = scope("l.department_id")
	if err := s.DB.NewSelect().TableExpr("labels AS l").Join("JOIN departments AS d ON d.id = l.department_id").
		ColumnExpr("l.id, CASE WHEN ? THEN l.name || ' (' || d.code || ')' ELSE l.name END AS name", desk).
		Where(w, args...).OrderExpr("2, 1").Limit(1000).Scan(ctx, &out.Labels); err != nil {
		return nil, err
	}
	return out, nil
}

// StudyBucket is a bucket that includes a given study, for the study page.
type StudyBucket struct {
	ID           int64      `bun:"id"`
	CreatedAt    time.Time  `bun:"created_at"`
	CreatedBy    string     `bun:"created_by_name"`
	Verification string     `bun:"verification"`
	Scope        string     `bun:"scope"`
	ValidUntil   time.Time  `bun:"valid_until"`
	State        string     `bun:"state"`
	Effective    string     `bun:"-"`
	Failures     int        `bun:"failures"`
	LastAccessAt *time.Time `bun:"last_access_at"`
	Anonymized   bool       `bun:"anonymized"`
	AnonNumber   string     `bun:"anon_number"`
}

// ForStudy lists the buckets that include study studyID, newest first. The
// caller has checked that the viewer may see the study.
func (s *Service) ForStudy(ctx context.Context, studyID int64) ([]*StudyBucket, error) {
	var out []*StudyBucket
	err := s.DB.NewSelect().TableExpr("bucket_studies AS bs").
		ColumnExpr("b.id, b.created_at, "+creatorName+" AS created_by_name").
		ColumnExpr("b.verification, b.scope, b.valid_until, b.state, b.failures, b.last_access_at, b.anonymized, b.anon_number").
		Join("JOIN buckets AS b ON b.id = bs.bucket_id").
		Join(creatorJoins).
		Where("bs.study_id = ?", studyID).
		OrderExpr("b.created_at DESC, b.id DESC").Limit(500).
		Scan(ctx, &out)
	today := s.Today()
	for _, b := range out {
		sb := database.Bucket{State: b.State, ValidUntil: b.ValidUntil}
		b.Effective = sb.EffectiveState(today)
	}
	return out, err
}

// dayStart is the first instant of day d's date on the service's calendar
// (RADPASS_TIMEZONE): a print at 00:30 in Brussels belongs to that day,
// though it is the day before in UTC.
func (s *Service) dayStart(d time.Time) time.Time {
	zone := s.Zone
	if zone == nil {
		zone = time.Local
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, zone)
}

// A bucket's creator: the staff user who printed it, or the API token that
// created it (the RIS API), named "API: token name".
const (
	creatorJoins = "LEFT JOIN users AS u ON u.id = b.created_by LEFT JOIN api_tokens AS tk ON tk.id = b.created_by_token"
	creatorName  = "coalesce(nullif(u.display_name, ''), u.username, 'API: ' || tk.name)"
)
