package patient_test

import (
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// BenchmarkImageStampede: 100 parallel requests of one patient session for
// one uncached 7.5 MB radiograph (2500 × 1500, 16-bit), each iteration a new
// file, over loopback against the real app with the server's database
// timeouts. Reports the process's peak RSS (server and client; VmHWM, reset
// first where the kernel allows), the median and slowest request and the
// answers other than 200. Run it alone:
//
//	go test -run '^$' -bench ImageStampede -benchtime 2x ./patient/
func BenchmarkImageStampede(b *testing.B) {
	f := newFixture(b)
	f.srv.ServerTimeouts(b)
	_, n := f.srv.MustBucket(b, f.staff, f.studies, testserver.BucketSpec{})
	c := f.srv.Client(b)
	c.Get("/")
	if res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth)); res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %d", res.StatusCode)
	}
	c.HTTP.Timeout = 2 * time.Minute
	c.HTTP.Transport = &http.Transport{MaxIdleConnsPerHost: 100}
	var urls []string
	for i := range b.N {
		file, err := dicom.Synth{StudyUID: "2.25.3", SeriesUID: "2.25.3.1", SOPUID: "2.25.3.1.1", PatientID: "P001", Modality: "CR",
			Rows: 2500, Cols: 1500, BitsAllocated: 16, BitsStored: 12,
			Pixel: func(_, p, _ int) int { return (p%1500)*2 + (p/1500)%700 + (p*7919+i)%97 }}.Bytes()
		if err != nil {
			b.Fatal(err)
		}
		inst, _ := f.srv.MustStoredInstance(b, f.studies[0], file, 1)
		urls = append(urls, f.srv.URL+"/p/images/"+strconv.FormatInt(inst, 10))
	}
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM
	var waits []time.Duration
	var failed atomic.Int32
	var mu sync.Mutex
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for range 100 {
			wg.Go(func() {
				<-gate
				t0 := time.Now()
				res, err := c.HTTP.Get(urls[i])
				if err != nil {
					failed.Add(1)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				d := time.Since(t0)
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				mu.Lock()
				waits = append(waits, d)
				mu.Unlock()
			})
		}
		close(gate)
		wg.Wait()
	}
	b.StopTimer()
	slices.Sort(waits)
	if len(waits) > 0 {
		b.ReportMetric(float64(waits[len(waits)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(waits[len(waits)-1].Milliseconds()), "max-ms")
	}
	b.ReportMetric(vmHWM(), "peak-RSS-MiB")
	b.ReportMetric(float64(failed.Load())/float64(b.N), "non-200/op")
}

// vmHWM is the process's peak resident set in MiB (0 when unknown).
func vmHWM() float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(s), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}
