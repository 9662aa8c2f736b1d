package dicomweb

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
	"golang.org/x/sync/semaphore"
)

// users is how many requests hold the shared read of key (0: none).
func (r *Reader) users(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.reads[key]; p != nil {
		return p.users
	}
	return 0
}

// A frame read waits for its place in the pixel budget; a request that
// goes away while waiting leaves nothing behind (no read, no bytes held).
// Requests for one file share one read, and the last one to finish gives
// its bytes back to the budget.
func TestFrameReadsWaitShareAndLetGo(t *testing.T) {
	st, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := dicom.Synth{StudyUID: "2.25.1", SeriesUID: "2.25.2", SOPUID: "2.25.3", PatientID: "P", Modality: "CT",
		Rows: 16, Cols: 16, Frames: 2, BitsAllocated: 16, BitsStored: 16, Pixel: func(f, p, _ int) int { return f*1000 + p }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	key, _, _, err := st.Put(context.Background(), bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// Its own budget, which no other test's request can take from.
	budget := semaphore.NewWeighted(pixelBudgetBytes)
	r := &Reader{Store: st, budget: budget}
	const ts = explicitVRLE
	pk := pixelKey(key, ts, 2)

	// The whole budget taken: the read waits; its request goes away.
	if err := budget.Acquire(context.Background(), pixelBudgetBytes); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error)
	go func() {
		_, _, err := r.readFrames(ctx, key, ts, 2)
		gone <- err
	}()
	for r.users(pk) == 0 {
		select {
		case err := <-gone:
			t.Fatalf("the read did not wait for the budget: %v", err)
		default:
		}
	}
	r.mu.Lock()
	waiting := r.reads[pk]
	r.mu.Unlock()
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("a request gone while waiting: %v", err)
	}
	if n := r.users(pk); n != 0 {
		t.Fatalf("%d users left behind", n)
	}
	budget.Release(pixelBudgetBytes)
	// The load gives up once it sees its context cancelled. Until then the
	// budget may grant it its bytes (they came free just now), which it
	// puts back before it ends: wait for that, or the checks below would
	// count them.
	<-waiting.done

	// Two requests share one read; the bytes are held until both are done.
	f1, done1, err := r.readFrames(context.Background(), key, ts, 2)
	if err != nil {
		t.Fatal(err)
	}
	f2, done2, err := r.readFrames(context.Background(), key, ts, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(f1) != 2 || &f1[0][0] != &f2[0][0] || r.users(pk) != 2 {
		t.Fatalf("not one shared read: %d frames, %d users", len(f1), r.users(pk))
	}
	done1()
	done1() // a second call changes nothing
	if budget.TryAcquire(pixelBudgetBytes) {
		t.Fatal("the read's bytes were given back while a request still uses them")
	}
	done2()
	if !budget.TryAcquire(pixelBudgetBytes) {
		t.Fatal("the read's bytes were not given back")
	}
	budget.Release(pixelBudgetBytes)
	if n := r.users(pk); n != 0 {
		t.Fatalf("%d users after both were done", n)
	}
}
