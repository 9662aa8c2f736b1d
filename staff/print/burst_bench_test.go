package print_test

import (
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// BenchmarkParallelPrintsOneUser (make bench, stress): 200 PRINT REFERENCE
// NUMBER posts by one user at once, each its own letter rendered and checked
// in the print; the time until all are stored, and the slowest one (a
// second pool connection inside the print transaction would wedge it).
func BenchmarkParallelPrintsOneUser(b *testing.B) {
	f := testserver.NewPrintFixture(b, "")
	p := newPoster(b, f, f.C)
	const n = 200
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		results := make([]testserver.Shot, n)
		var wg sync.WaitGroup
		gate := make(chan struct{})
		began := time.Now()
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-gate
				results[i] = f.Srv.Send(p.hc, http.MethodPost, "/staff/print", p.form)
			}(i)
		}
		close(gate)
		wg.Wait()
		total := time.Since(began)
		took := make([]time.Duration, n)
		for i, s := range results {
			if s.Err != nil || s.Status != http.StatusSeeOther {
				b.Fatalf("print %d: status %d, error %v", i, s.Status, s.Err)
			}
			took[i] = s.Took
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		b.Logf("200 parallel prints by one user: all stored in %v; per print p50 %v, slowest %v",
			total.Round(time.Millisecond), took[n/2].Round(time.Millisecond), took[n-1].Round(time.Millisecond))
		b.ReportMetric(total.Seconds(), "s-total")
	}
}
