package dicom_test

import (
	"bytes"
	"context"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

// xray is a 7.5 MB single-frame 16-bit radiograph (2500 × 1500), the size
// of X-ray a hundred viewers of one access open at once.
func xray(tb testing.TB) []byte {
	tb.Helper()
	data, err := rd.Synth{StudyUID: "1.2.826.0.9", SeriesUID: "1.2.826.0.9.1", SOPUID: "1.2.826.0.9.1.1", PatientID: "X",
		Modality: "CR", Rows: 2500, Cols: 1500, BitsAllocated: 16, BitsStored: 12,
		Pixel: func(_, i, _ int) int { return (i%1500)*2 + (i/1500)%700 + (i*7919)%97 }}.Bytes()
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// peakRSS reads the process's peak resident set (VmHWM) in MiB.
func peakRSS(tb testing.TB) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip("no /proc/self/status")
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	tb.Skip("no VmHWM")
	return 0
}

// BenchmarkStampede: 100 parallel views of one uncached 7.5 MB radiograph
// at its original size (each iteration starts with an empty render cache).
// Reports the process's peak RSS over the iterations (VmHWM, reset first
// where the kernel allows it), the median and slowest caller's wait and the
// reads of the stored file per stampede. Run it alone, in its own process:
//
//	go test -run '^$' -bench Stampede -benchtime 3x ./shared/dicom/
func BenchmarkStampede(b *testing.B) {
	const callers = 100
	fsStore, err := storage.NewFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	key, _, _, err := fsStore.Put(context.Background(), bytes.NewReader(xray(b)))
	if err != nil {
		b.Fatal(err)
	}
	st := &opens{Store: fsStore}
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // reset VmHWM
	base := peakRSS(b)
	var waits []time.Duration
	b.ResetTimer()
	for range b.N {
		r := &rd.Renderer{Store: st, CacheDir: b.TempDir()}
		var mu sync.Mutex
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for range callers {
			wg.Go(func() {
				<-gate
				t0 := time.Now()
				_, err := r.Render(context.Background(), rd.Request{StorageKey: key, Lang: "en"})
				d := time.Since(t0)
				if err != nil {
					b.Error(err)
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
	b.ReportMetric(peakRSS(b), "peak-RSS-MiB")
	b.ReportMetric(base, "start-RSS-MiB")
	b.ReportMetric(float64(waits[len(waits)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(waits[len(waits)-1].Milliseconds()), "max-ms")
	b.ReportMetric(float64(st.n.Load())/float64(b.N), "reads/op")
}
