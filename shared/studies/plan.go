package studies

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/database"
)

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
	// listed orders and filters the studies of a given id list: the
	// labelled ones when they are few (see labelSortCap).
	listed
	// collect collects every study with the search words, when they are few
	// (fewCap), and sorts them: one statement that finds the candidates,
	// counts them and makes the page from them (the page counts only when
	// they were all collected). A search whose words are all parts of
	// names finds them through the word index (studies_search_names, see
	// nameWords and candidateQuery), else through the trigram index.
	collect
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
	entries int        // budget: index entries to read; collect: the cap
	ids     []int64    // listed: the candidates
	words   [][]string // collect: the name words of each search word, or nil
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

// labelSortCap is the number of labelled studies up to which a label filter
// lists them (a primary-key visit each, a few ms). Above it, walking
// the date index newest first and checking each entry against a hash of the
// labelled ids is cheaper: at 2,000 labelled studies among 500,000 a page
// needs about 13,000 index entries (0.1 µs each), at 20,000 only 1,300.
const labelSortCap = 2000

// limits are fewCap, walkBudget and labelSortCap (smaller in tests, to
// reach every path).
type limits struct{ few, budget, labelSort int }

var defaults = limits{fewCap, walkBudget, labelSortCap}

// find runs the strategies in turn: no search walks; an ID or accession
// that exists is exact; a search with few matches is listed; else the
// budget walk, then sorted or walk.
func find(ctx context.Context, db bun.IDB, u *database.User, f Filter, lim limits) (result, error) {
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
		// The exact query itself: when it shows a study the ID exists. Only
		// an empty page needs the existence check (the ID may exist with
		// the filters excluding its studies).
		r, err := run(ctx, db, u, f, plan{st: exact})
		if err != nil || len(r.rows) > 0 {
			return r, err
		}
		q := scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("1"), u, f)
		ok, err := q.Where(exactCond, bun.In(idForms(toks[0])), bun.In(idForms(toks[0]))).Exists(ctx)
		if err != nil || ok {
			return r, err
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
		words, err := nameWords(ctx, db, toks)
		if err != nil {
			return result{}, err
		}
		r, err := run(ctx, db, u, f, plan{st: collect, entries: lim.few, words: words})
		if err != nil || r.candidates <= lim.few {
			return r, err
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

func estimates(ctx context.Context, db bun.IDB, u *database.User, f Filter) (estimated, error) {
	base := func() *bun.SelectQuery {
		return scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("1"), u, f)
	}
	// One EXPLAIN for the three: each is a scalar subquery, planned (for
	// all its rows) as its own InitPlan, in this order.
	qs := []*bun.SelectQuery{base(), tokenConds(base(), f)}
	if f.From != nil || f.To != nil || f.Modality != "" || f.Report != ReportAny || len(f.LabelIDs) > 0 {
		// The label filter is estimated in its semi-join form: PostgreSQL
		// estimates the hashed check of the walk form ("OR false") as half
		// of the rows whatever the labels, which would make a common label
		// with a name run a budget walk (hashing every labelled id) bound
		// to fail.
		qs = append(qs, filtered(base(), f, sorted))
	}
	q := db.NewSelect()
	for _, sub := range qs {
		q = q.ColumnExpr("(?)", sub)
	}
	rows, err := estimate(ctx, db, q, len(qs))
	if err != nil {
		return estimated{}, err
	}
	e := estimated{n: rows[0], mt: rows[1], mf: rows[1]} // no filters: mf is mt
	if len(rows) > 2 {
		e.mf = rows[2]
	}
	return e, nil
}

// nameWords returns, for each search word, the words of search_words that
// contain it (folded), when every search word is a part of names only: no
// digit, no space, and not in a patient ID or accession (in_id). Else nil:
// the trigram index must answer.
func nameWords(ctx context.Context, db bun.IDB, toks []string) ([][]string, error) {
	if len(toks) == 0 {
		return nil, nil
	}
	for _, tok := range toks {
		if strings.ContainsAny(tok, "0123456789") {
			return nil, nil
		}
	}
	arrays := make([]string, len(toks))
	ok := make([]string, 0, 2*len(toks))
	var args, okArgs []any
	for i, tok := range toks {
		p := database.EscapeLike(tok)
		arrays[i] = "ARRAY(SELECT sw.word FROM search_words AS sw WHERE sw.word LIKE '%' || rp_fold(?) || '%')"
		args = append(args, p)
		ok = append(ok, "rp_fold(?) !~ '[0-9 ]'", "NOT EXISTS (SELECT 1 FROM search_words AS sw WHERE sw.in_id AND sw.word LIKE '%' || rp_fold(?) || '%')")
		okArgs = append(okArgs, tok, p)
	}
	var out struct {
		OK    bool   `bun:"ok"`
		Words string `bun:"words"`
	}
	err := db.NewSelect().
		ColumnExpr(strings.Join(ok, " AND ")+" AS ok", okArgs...).
		ColumnExpr("json_build_array("+strings.Join(arrays, ", ")+") AS words", args...).
		Scan(ctx, &out)
	if err != nil || !out.OK {
		return nil, err
	}
	var words [][]string
	if err := json.Unmarshal([]byte(out.Words), &words); err != nil {
		return nil, fmt.Errorf("studies: read name words: %w", err)
	}
	return words, nil
}

// candidateQuery selects the studies in scope and date range after the
// cursor that contain the search words, in no order, with the columns the
// filters read and the sort key (as sort_key).
//
// With words (see nameWords) it takes them from the word index: search_words
// lists the words of studies.search, so the studies having one of those that
// contain what was typed are exactly those whose search text contains it
// (the text's words are separated by spaces, which a folded search word
// without a space cannot span). Without, from the trigram index.
func candidateQuery(db bun.IDB, u *database.User, f Filter, words [][]string) (*bun.SelectQuery, error) {
	q := db.NewSelect().TableExpr("studies AS s").
		ColumnExpr("s.id, s.study_date, s.search, s.modalities, s.report_status").
		ColumnExpr(sortKey + " AS sort_key")
	if words != nil {
		for _, w := range words {
			q = q.Where("rp_search_names(s.search) && ?::text[]", pgdialect.Array(w))
		}
		// The department is tested on the rows found, not through an
		// index: ANDing the word index's few hundred studies with the
		// department's millions costs seconds at 10 million studies.
		q = scopedOn(q, u, f, "(s.department_id + 0)")
	} else {
		q = scoped(tokenConds(q, f), u, f)
	}
	return pastCursors(dateRange(q, f), f)
}

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

// result is what one main query gave.
type result struct {
	st       strategy
	rows     []Row
	sql      string
	backward bool
	limit    int
	// collect: the studies with the search words found (up to the cap
	// plus one), and whether the word index found them.
	candidates int
	byWords    bool
}

// collectedRow is a row of a collect query: the page's rows, or one row
// without a study when the page is empty, each with the candidates' count.
type collectedRow struct {
	Row
	Candidates int `bun:"candidates"`
}

func run(ctx context.Context, db bun.IDB, u *database.User, f Filter, pl plan) (result, error) {
	q, backward, limit, err := query(db, u, f, pl)
	if err != nil {
		return result{}, err
	}
	r := result{st: pl.st, sql: q.String(), backward: backward, limit: limit}
	if pl.st != collect {
		if err := q.Scan(ctx, &r.rows); err != nil {
			return result{}, err
		}
		return r, nil
	}
	var rows []collectedRow
	if err := q.Scan(ctx, &rows); err != nil {
		return result{}, err
	}
	r.byWords = pl.words != nil
	for _, c := range rows {
		r.candidates = c.Candidates
		if c.ID != 0 {
			r.rows = append(r.rows, c.Row)
		}
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

// estimate returns PostgreSQL's estimates of the rows of the n scalar
// subqueries of q, in their order.
func estimate(ctx context.Context, db bun.IDB, q *bun.SelectQuery, n int) ([]float64, error) {
	var plan string
	if err := db.NewRaw("EXPLAIN (FORMAT JSON) ?", q).Scan(ctx, &plan); err != nil {
		return nil, err
	}
	type node struct {
		Rows     float64 `json:"Plan Rows"`
		Relation string  `json:"Parent Relationship"`
		Plans    []node  `json:"Plans"`
	}
	var out []struct{ Plan node }
	if err := json.Unmarshal([]byte(plan), &out); err != nil {
		return nil, fmt.Errorf("studies: read estimate: %w", err)
	}
	rows := make([]float64, n)
	if len(out) == 0 {
		return rows, nil // no estimate: fallback then walks
	}
	// The subqueries are the top node's InitPlans, in order (theirs are
	// nested under them).
	i := 0
	for _, p := range out[0].Plan.Plans {
		if p.Relation == "InitPlan" && i < n {
			rows[i] = p.Rows
			i++
		}
	}
	return rows, nil
}
