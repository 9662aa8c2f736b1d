package dicomweb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/radpass/radpass/shared/dicom"
)

// pixelBudgetBytes bounds the bytes this process holds for reading whole
// instances into memory (WADO-RS frames and bulk data, de-identified
// retrieves), whatever the number of requests: a request past it waits
// for its place.
const pixelBudgetBytes = 256 << 20

// pixelBudget is that bound, per process (every Reader shares it).
var pixelBudget = semaphore.NewWeighted(pixelBudgetBytes)

// pixels is the budget r reads within: pixelBudget, unless r has its own
// (a test's Reader, so other tests' requests cannot hold part of it).
func (r *Reader) pixels() *semaphore.Weighted {
	if r.budget != nil {
		return r.budget
	}
	return pixelBudget
}

// budgetWait bounds the wait for a place in pixelBudget: a request that
// waits longer answers 503 with Retry-After.
const budgetWait = 30 * time.Second

// errBusy: no place in pixelBudget within budgetWait.
var errBusy = errors.New("the server is busy, try again later")

// holdWeight is what reading a file of size bytes whole holds at its
// peak: the parsed data set (its pixel data the bulk of the file) and the
// frames cut from it (encapsulated fragments are joined into new
// buffers), at most the whole budget (such a file is read alone).
func holdWeight(size int64) int64 {
	return min(2*max(size, 1), pixelBudgetBytes)
}

// acquireBudget takes n bytes of r's budget, waiting at most budgetWait
// and no longer than ctx: errBusy, or ctx's error.
func (r *Reader) acquireBudget(ctx context.Context, n int64) error {
	wctx, cancel := context.WithTimeout(ctx, budgetWait)
	defer cancel()
	if err := r.pixels().Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errBusy
	}
	return nil
}

// pixelRead is one read of an instance's frames, shared by every request
// for the same stored file while any of them uses it (a viewer asking
// many frames of one instance at once, or many viewers one image): the
// file is held once, not once per request. frames and err are written
// once, before done is closed; the frames are never modified.
type pixelRead struct {
	done   chan struct{}
	frames [][]byte
	err    error
	cancel context.CancelFunc // stops a load nobody waits for any more
	users  int                // requests holding it; guarded by Reader.mu
	held   int64              // pixelBudget bytes held until the last user leaves; guarded by Reader.mu
}

// pixelKey names a shared read: the stored file, and how it is cut.
func pixelKey(storageKey, ts string, n int) string {
	return storageKey + "\x00" + ts + "\x00" + strconv.Itoa(n)
}

// readFrames gives the frames of e's stored pixel data (n frames in
// transfer syntax ts, see pixelFrames), read once for all concurrent
// callers within pixelBudget. The caller must call done when it no longer
// uses the frames (its answer sent); not on error.
func (r *Reader) readFrames(ctx context.Context, storageKey, ts string, n int) (frames [][]byte, done func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	key := pixelKey(storageKey, ts, n)
	r.mu.Lock()
	if r.reads == nil {
		r.reads = map[string]*pixelRead{}
	}
	p := r.reads[key]
	if p == nil {
		// Not the caller's context: the read serves every caller of key,
		// and stops only when none is left.
		lctx, cancel := context.WithCancel(context.Background())
		p = &pixelRead{done: make(chan struct{}), cancel: cancel}
		r.reads[key] = p
		go r.loadFrames(lctx, key, p, storageKey, ts, n)
	}
	p.users++
	r.mu.Unlock()
	var once sync.Once
	leave := func() { once.Do(func() { r.leave(key, p) }) }
	select {
	case <-p.done:
		if p.err != nil {
			leave()
			return nil, nil, p.err
		}
		return p.frames, leave, nil
	case <-ctx.Done():
		leave()
		return nil, nil, ctx.Err()
	}
}

// leave ends one user's hold of p; the last one frees its bytes.
func (r *Reader) leave(key string, p *pixelRead) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p.users--
	if p.users > 0 {
		return
	}
	if r.reads[key] == p {
		delete(r.reads, key)
	}
	p.cancel() // a load still waiting for its place gives up
	if p.held > 0 {
		r.pixels().Release(p.held)
		p.held = 0
	}
}

// loadFrames reads p's file within pixelBudget and cuts its frames.
func (r *Reader) loadFrames(ctx context.Context, key string, p *pixelRead, storageKey, ts string, n int) {
	var weight int64
	defer func() {
		// No request goroutine is above this one to turn a panic into a 500.
		if v := recover(); v != nil {
			p.frames, p.err = nil, fmt.Errorf("dicomweb: frame read panicked: %v", v)
		}
		r.mu.Lock()
		if p.err != nil || p.users == 0 {
			// Failed (the next request tries afresh) or nobody left to use it.
			p.frames = nil
			if r.reads[key] == p {
				delete(r.reads, key)
			}
			if weight > 0 {
				r.pixels().Release(weight)
			}
		} else {
			p.held = weight
		}
		r.mu.Unlock()
		close(p.done)
	}()
	blob, err := r.Store.Open(ctx, storageKey)
	if err != nil {
		p.err = err
		return
	}
	defer blob.Close()
	w := holdWeight(blob.Size())
	if err := r.acquireBudget(ctx, w); err != nil {
		p.err = err
		return
	}
	weight = w
	ds, tabs, err := dicom.ReadFullOffsets(blob, blob.Size())
	if err != nil {
		p.err = err
		return
	}
	p.frames, p.err = pixelFrames(ds, tabs, n, ts)
}

// framesBody is a frames answer streamed from a shared read's frames; its
// Close (fasthttp closes a body stream once sent, or when the response is
// reset) lets go of the read.
type framesBody struct {
	io.Reader
	done func()
}

func (b *framesBody) Close() error {
	b.done()
	return nil
}
