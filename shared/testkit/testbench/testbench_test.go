package testbench_test

import (
	"context"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testkit/testbench"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

func TestPct(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 .. 1, unsorted
	}
	for _, c := range []struct {
		name string
		ds   []time.Duration
		p    int
		want float64
	}{
		{"none", nil, 95, 0},
		{"one", ms(7), 50, 7},
		{"one p0", ms(7), 0, 7},
		{"median of three", ms(9, 1, 5), 50, 5},
		{"p95 of 100", ms(hundred...), 95, 95},
		{"p99 of 100", ms(hundred...), 99, 99},
		{"p100 of 100", ms(hundred...), 100, 100},
		{"p95 of 10 is the top", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 95, 10},
		{"microseconds", []time.Duration{1500 * time.Microsecond}, 50, 1.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := append([]time.Duration(nil), c.ds...)
			if got := testbench.Pct(c.ds, c.p); got != c.want {
				t.Fatalf("Pct(%v, %d) = %v, want %v", c.ds, c.p, got, c.want)
			}
			for i := range in {
				if in[i] != c.ds[i] {
					t.Fatal("Pct reordered its input")
				}
			}
		})
	}
}

type metrics map[string]float64

func (m metrics) ReportMetric(v float64, unit string) { m[unit] = v }

func TestReport(t *testing.T) {
	m := metrics{}
	testbench.Timings{Code: []time.Duration{4 * time.Millisecond}, Bare: []time.Duration{2 * time.Millisecond}}.Report(m)
	if m["p95-ms"] != 4 || m["sql-p95-ms"] != 2 || m["ratio-p95"] != 2 || m["p50-ms"] != 4 || m["p99-ms"] != 4 {
		t.Fatalf("metrics %v", m)
	}
	m = metrics{}
	testbench.Timings{Code: []time.Duration{time.Millisecond}}.Report(m)
	if _, ok := m["ratio-p95"]; ok || len(m) != 3 {
		t.Fatalf("without bare SQL: metrics %v", m)
	}
}

func TestBareQuery(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	if err := testbench.BareQuery(ctx, db.DB, `SELECT g, g::text || 'x', NULL FROM generate_series(1, 3) g`); err != nil {
		t.Fatal(err)
	}
	if err := testbench.BareQuery(ctx, db.DB, `SELECT * FROM no_such_table`); err == nil {
		t.Fatal("an invalid statement gave no error")
	}
	if err := testbench.BareQuery(ctx, db.DB, `SELECT 1/(g-3) FROM generate_series(1, 5) g`); err == nil {
		t.Fatal("an error while reading the rows was not returned")
	}
}
