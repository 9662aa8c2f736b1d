// Package testbench holds what the benchmarks share: percentiles of the
// measured durations and the bare-SQL floor they are compared with.
package testbench

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

// Pct is the p-th percentile (nearest rank) of ds in milliseconds; 0 when
// there are no durations.
func Pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return float64(s[i].Microseconds()) / 1000
}

// BareQuery runs the SQL text through database/sql and reads every column of
// every row as bytes: the floor under the code that ran it (no struct
// mapping, no further queries).
func BareQuery(ctx context.Context, db *sql.DB, query string) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Timings are the durations of one benchmark case: the code measured and,
// run right after it, its bare SQL.
type Timings struct{ Code, Bare []time.Duration }

// Report adds p50/p95/p99 of the code (ms), the bare SQL's p95 and the p95
// ratio to b's metrics (the bare ones only when bare SQL was timed).
func (t Timings) Report(b interface {
	ReportMetric(float64, string)
}) {
	b.ReportMetric(Pct(t.Code, 50), "p50-ms")
	b.ReportMetric(Pct(t.Code, 95), "p95-ms")
	b.ReportMetric(Pct(t.Code, 99), "p99-ms")
	if len(t.Bare) > 0 {
		b.ReportMetric(Pct(t.Bare, 95), "sql-p95-ms")
		b.ReportMetric(Pct(t.Code, 95)/Pct(t.Bare, 95), "ratio-p95")
	}
}
