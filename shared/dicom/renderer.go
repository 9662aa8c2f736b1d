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
	"time"

	"github.com/radpass/radpass/shared/dicom/codec"
	"github.com/radpass/radpass/shared/storage"
)

// renderVersion is part of every cache key: bump it when output changes.
const renderVersion = "r2"

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
type Renderer struct {
	Store    storage.Store
	CacheDir string // "" disables the cache
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
		if b, err := os.ReadFile(path); err == nil {
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
	blob, err := r.Store.Open(ctx, q.StorageKey)
	if err != nil {
		return nil, err
	}
	defer blob.Close()
	im, err := Decode(blob, blob.Size())
	var img image.Image
	if err == nil {
		img, err = im.Render(Options{Frame: q.Frame, Window: win, Auto: auto, Size: q.Size})
	}
	if errors.Is(err, ErrFrame) {
		return nil, ErrFrame
	}
	if err != nil && im != nil && !im.Meta.HasPixelData {
		// A report, structure set, waveform…: nothing to draw, say so.
		return &Result{Data: NoPixels(q.Lang, q.Size), ContentType: "image/png",
			ETag: `"np-` + q.Lang + "-" + itoa(max(q.Size, 0)) + `"`, Unavailable: true}, nil
	}
	if err != nil {
		// Undecodable pixel data: the translated placeholder, never an error
		// page. Remembered unless the cause may pass (a decoder queue full
		// under load, a cancelled request, a disk error); bumping
		// renderVersion (a new decoder) forgets every such verdict.
		if failed != "" && !transient(ctx, err) {
			writeCache(failed, nil)
		}
		return unavailable, nil
	}
	var buf bytes.Buffer
	if err := Encode(&buf, img, q.PNG); err != nil {
		return nil, err
	}
	if path != "" {
		writeCache(path, buf.Bytes())
	}
	return &Result{Data: buf.Bytes(), ContentType: ctype, ETag: etag}, nil
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
