package studies

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
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
