package dicom_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

// gated counts the blobs a renderer reads and how many are open at once,
// and holds every Open until gate is closed (nil: no hold) or the render's
// context ends.
type gated struct {
	storage.Store
	gate    chan struct{}
	entered atomic.Int32 // Open calls
	open    atomic.Int32 // blobs open now (a render in progress)
	peak    atomic.Int32 // most blobs open at once
}

func (g *gated) Open(ctx context.Context, key string) (storage.Blob, error) {
	g.entered.Add(1)
	n := g.open.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			g.open.Add(-1)
			return nil, ctx.Err()
		}
	}
	b, err := g.Store.Open(ctx, key)
	if err != nil {
		g.open.Add(-1)
		return nil, err
	}
	return &gatedBlob{Blob: b, g: g}, nil
}

type gatedBlob struct {
	storage.Blob
	g    *gated
	once sync.Once
}

func (b *gatedBlob) Close() error {
	b.once.Do(func() { b.g.open.Add(-1) })
	return b.Blob.Close()
}

// until waits (without a deadline: the test's own timeout is the limit)
// for cond; a synchronisation point, not a timed assertion.
func until(cond func() bool) {
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// storeOf puts each file in a fresh file store behind a gated wrapper.
func storeOf(t *testing.T, files ...[]byte) (*gated, []string) {
	t.Helper()
	fsStore, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, f := range files {
		k, _, _, err := fsStore.Put(context.Background(), bytes.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return &gated{Store: fsStore, gate: make(chan struct{})}, keys
}

func smallCT(t *testing.T) []byte {
	t.Helper()
	b, err := rd.Synth{StudyUID: "1.2.826.0.1", SeriesUID: "1.2.826.0.1.1", SOPUID: "1.2.826.0.1.1.1", PatientID: "B",
		Rows: 192, Cols: 160, BitsAllocated: 16, Slope: "1", Intercept: "-1024", WindowCenter: "40", WindowWidth: "400",
		Pixel: func(_, i, _ int) int { return (i*7919)%2000 + i%160 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Parallel views of one uncached rendering read and decode the file once,
// with or without the disk cache, and every caller gets the same bytes as a
// render on its own, in a slice of its own; a placeholder comes in each
// caller's language.
func TestParallelRendersShareOneRead(t *testing.T) {
	t.Parallel()
	broken, err := rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "X", Rows: 2, Cols: 2,
		BitsAllocated: 8, TransferSyntax: "1.2.840.10008.1.2.4.90", Pixel: func(f, i, s int) int { return 0 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	const callers = 40
	for _, tc := range []struct {
		name        string
		file        []byte
		cache       bool
		req         rd.Request
		unavailable bool
	}{
		{"jpeg, cached", smallCT(t), true, rd.Request{Size: 128}, false},
		{"png window, no cache", smallCT(t), false, rd.Request{Window: "soft", PNG: true}, false},
		{"undecodable, cached", broken, true, rd.Request{Size: 256}, true},
		{"undecodable, no cache", broken, false, rd.Request{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, keys := storeOf(t, tc.file)
			r := &rd.Renderer{Store: st}
			if tc.cache {
				r.CacheDir = t.TempDir()
			}
			langs := []string{"en", "de", "fr", "nl"}
			results := make([]*rd.Result, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					q := tc.req
					q.StorageKey, q.Lang = keys[0], langs[i%len(langs)]
					res, err := r.Render(ctx, q)
					if err != nil {
						t.Errorf("caller %d: %v", i, err)
						return
					}
					results[i] = res
				})
			}
			// Every caller has joined the one render, which is held in Open
			// (or, were renders not shared, a second read has started).
			until(func() bool { return rd.Waiting(r) == callers || st.entered.Load() > 1 })
			if n := st.entered.Load(); n > 1 {
				t.Fatalf("%d reads started for one rendering", n)
			}
			close(st.gate)
			wg.Wait()
			if t.Failed() {
				return
			}
			if n := st.entered.Load(); n != 1 {
				t.Fatalf("the file was read %d times for %d parallel views, want once", n, callers)
			}
			// The same request alone, on a renderer of its own.
			alone := &rd.Renderer{Store: st.Store}
			for i, res := range results {
				q := tc.req
				q.StorageKey, q.Lang = keys[0], langs[i%len(langs)]
				want, err := alone.Render(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if res.Unavailable != tc.unavailable || !bytes.Equal(res.Data, want.Data) || res.ETag != want.ETag || res.ContentType != want.ContentType {
					t.Fatalf("caller %d (%s) got %d bytes %s %s unavailable=%t, alone %d bytes %s %s",
						i, q.Lang, len(res.Data), res.ContentType, res.ETag, res.Unavailable, len(want.Data), want.ContentType, want.ETag)
				}
			}
			if !tc.unavailable {
				// Each caller owns its bytes: writing into one changes no other.
				first := bytes.Clone(results[1].Data)
				results[0].Data[0] ^= 0xff
				if !bytes.Equal(results[1].Data, first) {
					t.Fatal("callers share one byte slice")
				}
			}
		})
	}
}

// A caller whose request ends returns at once with its context's error,
// while the render the others wait for goes on; when every caller has gone
// the render is given up, not remembered as undecodable, and the next view
// renders afresh.
func TestCancelledWaiterLeavesTheRenderToOthers(t *testing.T) {
	t.Parallel()
	st, keys := storeOf(t, smallCT(t))
	r := &rd.Renderer{Store: st, CacheDir: t.TempDir()}
	q := rd.Request{StorageKey: keys[0], Lang: "en"}
	// The caller that starts the render leaves while it is held in Open.
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, err := r.Render(ctx, q)
		gone <- err
	}()
	until(func() bool { return rd.Waiting(r) == 1 && st.entered.Load() == 1 })
	const others = 5
	results := make(chan []byte, others)
	for range others {
		go func() {
			res, err := r.Render(context.Background(), q)
			if err != nil {
				t.Error(err)
				results <- nil
				return
			}
			results <- res.Data
		}()
	}
	until(func() bool { return rd.Waiting(r) == others+1 || st.entered.Load() > 1 })
	if n := st.entered.Load(); n != 1 {
		t.Fatalf("%d reads started for one rendering", n)
	}
	cancel()
	// The render is still held in Open: the cancelled caller does not wait for it.
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want context.Canceled", err)
	}
	if rd.Waiting(r) != others {
		t.Fatalf("%d callers waiting after one left, want %d", rd.Waiting(r), others)
	}
	close(st.gate)
	var first []byte
	for range others {
		b := <-results
		if b == nil {
			t.Fatal("a caller failed with the cancelled one")
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatal("callers got different bytes")
		}
	}
	if n := st.entered.Load(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}

	// Every caller gone: the render held in Open is given up.
	st2, keys2 := storeOf(t, smallCT(t))
	r2 := &rd.Renderer{Store: st2, CacheDir: t.TempDir()}
	q2 := rd.Request{StorageKey: keys2[0], Lang: "en"}
	var wg sync.WaitGroup
	ctx2, cancel2 := context.WithCancel(context.Background())
	for range 3 {
		wg.Go(func() {
			if _, err := r2.Render(ctx2, q2); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled caller: %v", err)
			}
		})
	}
	until(func() bool { return rd.Waiting(r2) == 3 && st2.entered.Load() == 1 || st2.entered.Load() > 1 })
	if n := st2.entered.Load(); n != 1 {
		t.Fatalf("%d reads started for one rendering", n)
	}
	cancel2()
	wg.Wait()
	if n := rd.Flights(r2); n != 0 {
		t.Fatalf("%d renders nobody waits for are still joined by new callers", n)
	}
	until(func() bool { return st2.open.Load() == 0 }) // the abandoned Open returned
	close(st2.gate)
	res, err := r2.Render(context.Background(), q2)
	if err != nil || res.Unavailable || !bytes.Equal(res.Data, first) {
		t.Fatalf("after an abandoned render: %v, unavailable %t", err, res != nil && res.Unavailable)
	}
	if n := st2.entered.Load(); n != 2 {
		t.Fatalf("%d reads, want 2 (the abandoned one and the new one)", n)
	}
}

// At most Parallel renderings run at once, whatever the number of distinct
// requests; a caller waiting for a slot leaves when its request ends.
func TestRenderSlotsAreBounded(t *testing.T) {
	t.Parallel()
	for _, parallel := range []int{1, 2} {
		t.Run(fmt.Sprint(parallel), func(t *testing.T) {
			t.Parallel()
			st, keys := storeOf(t, smallCT(t))
			r := &rd.Renderer{Store: st, Parallel: parallel}
			sizes := []int{64, 128, 256, 512, 1024, 2048}
			var wg sync.WaitGroup
			for _, size := range sizes {
				wg.Go(func() {
					if _, err := r.Render(context.Background(), rd.Request{StorageKey: keys[0], Size: size}); err != nil {
						t.Error(err)
					}
				})
			}
			until(func() bool {
				return rd.Waiting(r) == len(sizes) && st.entered.Load() == int32(parallel) || st.entered.Load() > int32(parallel)
			})
			if n := st.entered.Load(); n > int32(parallel) {
				t.Fatalf("%d renderings started at once, want at most %d", n, parallel)
			}
			// A view of another rendering waits for a slot; its request ends.
			ctx, cancel := context.WithCancel(context.Background())
			gone := make(chan error, 1)
			go func() {
				_, err := r.Render(ctx, rd.Request{StorageKey: keys[0], Window: "bone"})
				gone <- err
			}()
			until(func() bool { return rd.Waiting(r) == len(sizes)+1 })
			cancel()
			if err := <-gone; !errors.Is(err, context.Canceled) {
				t.Fatalf("caller waiting for a slot: %v", err)
			}
			// Give unbounded renders the chance to pile up in Open.
			time.Sleep(20 * time.Millisecond)
			close(st.gate)
			wg.Wait()
			if p := st.peak.Load(); p != int32(parallel) {
				t.Fatalf("%d renderings ran at once, want at most (and here exactly) %d", p, parallel)
			}
			if n := st.entered.Load(); n != int32(len(sizes)) {
				t.Fatalf("%d reads for %d renderings", n, len(sizes))
			}
		})
	}
}
