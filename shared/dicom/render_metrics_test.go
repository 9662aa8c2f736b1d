package dicom_test

import (
	"context"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/metrics"
)

// counterValue sums the samples of family name whose labels include want.
func counterValue(t *testing.T, m *metrics.Metrics, name string, want map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, s := range f.GetMetric() {
			for k, v := range want {
				if !hasLabel(s, k, v) {
					continue next
				}
			}
			sum += s.GetCounter().GetValue()
		}
	}
	return sum
}

func hasLabel(s *dto.Metric, k, v string) bool {
	for _, l := range s.GetLabel() {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}

// Parallel views of one uncached image count one cache miss each and, all
// but the one that started it, a shared render; the next view is a hit.
func TestRenderMetrics(t *testing.T) {
	t.Parallel()
	const callers = 6
	st, keys := storeOf(t, smallCT(t))
	m := metrics.New()
	r := &rd.Renderer{Store: st, CacheDir: t.TempDir(), Metrics: m}
	q := rd.Request{StorageKey: keys[0], Size: 128, Lang: "en"}
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if _, err := r.Render(context.Background(), q); err != nil {
				t.Error(err)
			}
		})
	}
	until(func() bool { return rd.Waiting(r) == callers })
	close(st.gate)
	wg.Wait()
	if _, err := r.Render(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if got := counterValue(t, m, "radpass_render_cache_total", map[string]string{"result": "miss"}); got != callers {
		t.Errorf("%v cache misses, want %d", got, callers)
	}
	if got := counterValue(t, m, "radpass_render_cache_total", map[string]string{"result": "hit"}); got != 1 {
		t.Errorf("%v cache hits, want 1", got)
	}
	if got := counterValue(t, m, "radpass_render_shared_total", nil); got != callers-1 {
		t.Errorf("%v shared renders, want %d", got, callers-1)
	}
}
