package studies

import (
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/database"
)

// sortKey orders studies newest first with undated ones last; it must match
// the expression of the studies_dept_walk and studies_walk indexes exactly.
const sortKey = "coalesce(s.study_date, '-infinity'::date)"

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
func scoped(q *bun.SelectQuery, u *database.User, f Filter) *bun.SelectQuery {
	return scopedOn(q, u, f, "s.department_id")
}

// scopedOn is scoped with the department column written as col.
func scopedOn(q *bun.SelectQuery, u *database.User, f Filter, col string) *bun.SelectQuery {
	switch {
	case !u.IsServiceDesk() && u.DepartmentID != nil:
		return q.Where(col+" = ?", *u.DepartmentID)
	case !u.IsServiceDesk():
		return q.Where("false")
	case f.DepartmentID > 0:
		return q.Where(col+" = ?", f.DepartmentID)
	}
	return q
}

// tokenConds adds the search words: each must appear in studies.search.
func tokenConds(q *bun.SelectQuery, f Filter) *bun.SelectQuery {
	for _, tok := range Tokens(f.Query) {
		q = q.Where("s.search LIKE '%' || rp_fold(?) || '%'", database.EscapeLike(tok))
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
	return reported(q, f)
}

// reported adds the report filter, in the form the studies_dept_report_walk
// index answers: its key is (report_status <> 'none'), which "IS FALSE"
// matches where "= 'none'" would not.
func reported(q *bun.SelectQuery, f Filter) *bun.SelectQuery {
	switch f.Report {
	case ReportYes:
		q = q.Where("s.report_status <> 'none'")
	case ReportNo:
		q = q.Where("(s.report_status <> 'none') IS FALSE")
	}
	return q
}

// query builds the main query: an inner one finds the page's study ids
// (for walk and budget from the covering index alone), the outer one joins
// the patient and department for those limit+1 rows only.
func query(db bun.IDB, u *database.User, f Filter, pl plan) (q *bun.SelectQuery, backward bool, limit int, err error) {
	limit, st := pageLimit(f), pl.st
	// "+ 0" hides the sort key from the index so the planner cannot walk it.
	key := sortKey
	if st == sorted || st == exact || st == listed || st == intersect || st == collect {
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
	if st == collect {
		// The candidates (cursor applied) are the CTE "few"; the page is
		// made from their columns, with the joins for its rows only.
		cands, err := candidateQuery(db, u, f, pl.words)
		if err != nil {
			return nil, false, 0, err
		}
		ids = filtered(ids.TableExpr("few AS s"), f, st).
			OrderExpr("s.sort_key" + order + ", s.id" + order).Limit(limit + 1)
		// cand is planned for all its rows (a bitmap scan of the word or
		// trigram index), not for the first few+1, and read only that far.
		// A row without a study carries the count when the page is empty.
		q = db.NewSelect().
			WithQuery(bun.NewWithQuery("cand", cands).Materialized()).
			With("few", db.NewSelect().TableExpr("cand").ColumnExpr("*").Limit(pl.entries+1)).
			TableExpr("(SELECT count(*) AS n FROM few) AS c").
			Join("LEFT JOIN LATERAL (?) AS r ON true", page(db, ids, order)).
			ColumnExpr("r.*, c.n AS candidates").
			OrderExpr("coalesce(r.study_date, '-infinity'::date)" + order + ", r.id" + order)
		return q, backward, limit, nil
	}
	if st == budget {
		// The newest entries in scope (date range and report status)
		// after the cursor; the other filters then apply to those alone.
		// The key is passed out as a column so that PostgreSQL sees the
		// window is already in order and stops at the page size.
		window := sorting(reported(dateRange(scoped(db.NewSelect().
			TableExpr("studies AS s").
			ColumnExpr("s.id, s.study_date, s.search, s.modalities, s.report_status").
			ColumnExpr(sortKey+" AS sort_key"), u, f), f), f), sortKey).
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
	return page(db, ids.Limit(limit+1), order), backward, limit, nil
}

// page joins the patient and department to the page's study ids.
func page(db bun.IDB, ids *bun.SelectQuery, order string) *bun.SelectQuery {
	return db.NewSelect().
		TableExpr("(?) AS k", ids).
		Join("JOIN studies AS s ON s.id = k.id").
		Join("JOIN patients AS p ON p.id = s.patient_id").
		Join("JOIN departments AS d ON d.id = s.department_id").
		ColumnExpr("s.id, s.department_id, d.name AS department_name, s.patient_id AS patient_row_id").
		ColumnExpr("p.patient_id, p.family_name, p.given_name, p.birth_date").
		ColumnExpr("s.study_date, s.modalities, s.description, s.accession, s.num_instances, s.report_status").
		OrderExpr(sortKey + order + ", s.id" + order)
}
