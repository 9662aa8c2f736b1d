package studies

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
)

// Search returns one page of the studies u may see that match f.
func Search(ctx context.Context, db bun.IDB, u *database.User, f Filter) (Page, error) {
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
func SQL(ctx context.Context, db bun.IDB, u *database.User, f Filter) (string, error) {
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
