package dicom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/radpass/radpass/shared/dicom/codec"
	"github.com/radpass/radpass/shared/metrics"
	"github.com/radpass/radpass/shared/storage"
)

// renderVersion is part of every cache key: bump it when output changes.
const renderVersion = "r3"

// Request names one rendering of one stored instance. Staff and patient
// handlers both build one after their own access checks.
type Request struct {
	StorageKey string
	Frame      int
	Window     string // "", "auto", a preset name or "center,width"
	Size       int    // longest side; 0 = original
	PNG        bool   // lossless output
	Lang       string // for the "preview not available" placeholder
}

// Result is an encoded image ready to send.
type Result struct {
	Data        []byte
	ContentType string
	ETag        string
	Unavailable bool // the placeholder, not the image
}

// Renderer renders stored instances and caches the output on disk, keyed by
// instance, frame, window, size and format.
//
// Parallel requests for one rendering share one render: a hundred viewers
// opening the same uncached 7.5 MB radiograph read and decode it once, not a
// hundred times (1.2 GB of RSS and 10 s each). At most Parallel
// renderings (read, decode, encode) run at once; the others wait for a slot,
// and a caller whose request ends stops waiting without cancelling the
// render the other callers wait for. A Renderer must not be copied after
// first use.
type Renderer struct {
	Store    storage.Store
	CacheDir string // "" disables the cache
	// Parallel bounds the renderings running at once; 0 means GOMAXPROCS.
	Parallel int
	// Metrics counts cache hits and misses and shared renders (nil: off).
	Metrics *metrics.Metrics

	mu      sync.Mutex
	slots   chan struct{}      // a token per running render; set with flights
	flights map[string]*flight // renders in progress by cache key; guarded by mu
}

// outcome is what one shared render found; each caller turns a placeholder
// outcome into a placeholder in its own language.
type outcome int

const (
	rendered    outcome = iota // data holds the encoded image
	undecodable                // the "preview not available" placeholder
	noPixels                   // the "no preview for this kind of object" placeholder
)

// flight is one render in progress, shared by every caller of its cache key.
// data, kind and err are written once, before done is closed, and never
// changed afterwards; callers get copies of data.
type flight struct {
	done    chan struct{}
	data    []byte
	kind    outcome
	err     error
	waiters int // callers still waiting; guarded by Renderer.mu
	cancel  context.CancelFunc
}

// ErrBadWindow: the window parameter is not "", auto, a preset or "c,w".
var ErrBadWindow = errors.New("bad window")

// MaxSize bounds the size parameter.
const MaxSize = 4096

// sizes are the output sizes served; any other request rounds up to the
// next one, so a client cannot make thousands of distinct cache entries.
var sizes = []int{64, 128, 256, 512, 1024, 2048}

// SnapSize maps a requested size to the size served: 0 (original) for zero,
// negative or larger than MaxSize, else the next of sizes (original above 2048).
func SnapSize(n int) int {
	if n <= 0 || n > MaxSize {
		return 0
	}
	for _, s := range sizes {
		if n <= s {
			return s
		}
	}
	return 0
}

// Render returns the encoded frame, from the cache when it is there.
func (r *Renderer) Render(ctx context.Context, q Request) (*Result, error) {
	win, auto, ok := ParseWindow(q.Window)
	if !ok {
		return nil, ErrBadWindow
	}
	q.Size = SnapSize(q.Size)
	// One cache entry per distinct rendering, not per spelling of it
	// ("40,400", "40.0,400" and "soft" are the same window): the cache
	// cannot be filled by varying the query text.
	winKey := "file"
	switch {
	case auto:
		winKey = "auto"
	case win != nil:
		winKey = fmt.Sprintf("%g,%g", win.Center, win.Width)
	}
	ctype := "image/jpeg"
	if q.PNG {
		ctype = "image/png"
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%d|%s|%d|%t", renderVersion, q.StorageKey, q.Frame, winKey, q.Size, q.PNG))
	ck := hex.EncodeToString(h[:])
	etag := `"` + ck[:32] + `"`
	path := ""
	if r.CacheDir != "" {
		path = filepath.Join(r.CacheDir, ck[:2], ck)
		b, err := os.ReadFile(path)
		r.Metrics.RenderCache(err == nil)
		if err == nil {
			return &Result{Data: b, ContentType: ctype, ETag: etag}, nil
		}
	}
	unavailable := &Result{Data: Unavailable(q.Lang, q.Size), ContentType: "image/png",
		ETag: `"na-` + q.Lang + "-" + itoa(max(q.Size, 0)) + `"`, Unavailable: true}
	// A frame known to be undecodable is not decoded again on every view,
	// thumbnail and window change: a hostile or broken frame can cost a C
	// decoder seconds each time (see codec.InCLane).
	failed := ""
	if r.CacheDir != "" {
		fh := sha256.Sum256(fmt.Appendf(nil, "%s|undecodable|%s|%d", renderVersion, q.StorageKey, q.Frame))
		fk := hex.EncodeToString(fh[:])
		failed = filepath.Join(r.CacheDir, fk[:2], fk+".na")
		if _, err := os.Stat(failed); err == nil {
			return unavailable, nil
		}
	}
	data, kind, err := r.shared(ctx, ck, func(ctx context.Context) ([]byte, outcome, error) {
		return r.render(ctx, q, win, auto, path, failed)
	})
	switch {
	case err != nil:
		return nil, err
	case kind == undecodable:
		return unavailable, nil
	case kind == noPixels:
		// A report, structure set, waveform…: nothing to draw, say so.
		return &Result{Data: NoPixels(q.Lang, q.Size), ContentType: "image/png",
			ETag: `"np-` + q.Lang + "-" + itoa(max(q.Size, 0)) + `"`, Unavailable: true}, nil
	}
	return &Result{Data: data, ContentType: ctype, ETag: etag}, nil
}

// render reads, decodes and encodes one rendering and caches it (or the
// verdict that the frame is undecodable). It runs in a render slot, once per
// cache key however many callers wait for it.
func (r *Renderer) render(ctx context.Context, q Request, win *Window, auto bool, path, failed string) ([]byte, outcome, error) {
	// The previous render of this key may have finished between the
	// caller's cache lookup and this one.
	if path != "" {
		if b, err := os.ReadFile(path); err == nil {
			return b, rendered, nil
		}
	}
	if failed != "" {
		if _, err := os.Stat(failed); err == nil {
			return nil, undecodable, nil
		}
	}
	blob, err := r.Store.Open(ctx, q.StorageKey)
	if err != nil {
		return nil, 0, err
	}
	defer blob.Close()
	im, err := Decode(blob, blob.Size())
	var img image.Image
	if err == nil {
		img, err = im.Render(Options{Frame: q.Frame, Window: win, Auto: auto, Size: q.Size})
	}
	if errors.Is(err, ErrFrame) {
		return nil, 0, ErrFrame
	}
	if err != nil && im != nil && !im.Meta.HasPixelData {
		return nil, noPixels, nil
	}
	if err != nil {
		// Undecodable pixel data: the translated placeholder, never an error
		// page. Remembered unless the cause may pass (a decoder queue full
		// under load, a cancelled request, a disk error); bumping
		// renderVersion (a new decoder) forgets every such verdict.
		if failed != "" && !transient(ctx, err) {
			writeCache(failed, nil)
		}
		return nil, undecodable, nil
	}
	var buf bytes.Buffer
	if err := Encode(&buf, img, q.PNG); err != nil {
		return nil, 0, err
	}
	if path != "" {
		writeCache(path, buf.Bytes())
	}
	return buf.Bytes(), rendered, nil
}

// shared runs fn once for all concurrent callers of key, in a render slot,
// and gives each caller its own copy of the bytes. fn runs under a context
// of its own: it is cancelled only when every caller waiting for it has
// gone (a cancelled render is then not remembered as undecodable, see
// transient), so one impatient client cannot fail the others.
func (r *Renderer) shared(ctx context.Context, key string, fn func(context.Context) ([]byte, outcome, error)) ([]byte, outcome, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err // gone already: start nothing
	}
	r.mu.Lock()
	if r.flights == nil {
		n := r.Parallel
		if n <= 0 {
			n = runtime.GOMAXPROCS(0)
		}
		r.slots = make(chan struct{}, n)
		r.flights = map[string]*flight{}
	}
	f := r.flights[key]
	if f == nil {
		// Not the caller's context: the render may outlive its request.
		fctx, cancel := context.WithCancel(context.Background())
		f = &flight{done: make(chan struct{}), cancel: cancel}
		r.flights[key] = f
		go r.fly(fctx, key, f, fn)
	} else {
		r.Metrics.SharedRender()
	}
	f.waiters++
	r.mu.Unlock()
	select {
	case <-f.done:
		return bytes.Clone(f.data), f.kind, f.err
	case <-ctx.Done():
		r.mu.Lock()
		f.waiters--
		if f.waiters == 0 && r.flights[key] == f {
			// Nobody waits any more: stop waiting for a slot (a decode
			// already running ends on its own) and let the next caller
			// start afresh.
			delete(r.flights, key)
			f.cancel()
		}
		r.mu.Unlock()
		return nil, 0, ctx.Err()
	}
}

// fly runs flight f: waits for a render slot, runs fn, publishes the result.
func (r *Renderer) fly(ctx context.Context, key string, f *flight, fn func(context.Context) ([]byte, outcome, error)) {
	defer func() {
		// No request goroutine is above this one to turn a panic into a 500.
		if p := recover(); p != nil {
			f.data, f.kind, f.err = nil, 0, fmt.Errorf("dicom: render panicked: %v", p)
		}
		r.mu.Lock()
		if r.flights[key] == f {
			delete(r.flights, key)
		}
		r.mu.Unlock()
		f.cancel()
		close(f.done)
	}()
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		f.err = ctx.Err()
		return
	}
	defer func() { <-r.slots }()
	f.data, f.kind, f.err = fn(ctx)
}

// transient reports a decode failure that may not happen again.
func transient(ctx context.Context, err error) bool {
	var pathErr *fs.PathError
	return errors.Is(err, codec.ErrTooSlow) || ctx.Err() != nil || errors.As(err, &pathErr)
}

// writeCache stores a rendering atomically; failures only cost a re-render.
func writeCache(path string, b []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

// PurgeCache deletes renderings older than maxAge. Every entry can be made
// again in a few milliseconds, so age alone bounds the cache's size to what
// the recent weeks asked for.
func (r *Renderer) PurgeCache(maxAge time.Duration) (int, error) {
	if r.CacheDir == "" {
		return 0, nil
	}
	cutoff := time.Now().Add(-maxAge)
	n := 0
	err := filepath.WalkDir(r.CacheDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if info.ModTime().Before(cutoff) {
			if err := os.Remove(p); err == nil {
				n++
			}
		}
		return nil
	})
	return n, err
}
