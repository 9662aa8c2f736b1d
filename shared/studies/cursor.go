package studies

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Cursor is the keyset position of this row.
func (r Row) Cursor() string { return encodeCursor(r.StudyDate, r.ID) }

// ErrCursor is returned for a cursor that was not made by this package.
var ErrCursor = fmt.Errorf("studies: malformed cursor")

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

// pastCursors keeps the rows of q after f.After and before f.Before in the
// list's order (sort key, then id), in no particular order of their own:
// the bound of the unordered candidate queries.
func pastCursors(q *bun.SelectQuery, f Filter) (*bun.SelectQuery, error) {
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
	return q, nil
}
