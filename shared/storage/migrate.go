package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// MigrateProgress is where a copy of a local folder to S3 stands.
type MigrateProgress struct {
	Files, Bytes           int64 // in the local folder
	DoneFiles, DoneBytes   int64 // looked at so far
	Copied, Skipped, Fails int64
}

// MigrateOptions tune MigrateToS3.
type MigrateOptions struct {
	Workers int // parallel copies (default 4)
	// Verify reads every object back from S3 and checks its SHA-256, also
	// the ones already there (otherwise those are trusted by size: an object
	// appears under its content key only once whole and hashed).
	Verify bool
	// Progress is called after each file (from several goroutines, serialised).
	Progress func(MigrateProgress)
}

// MigrateToS3 copies every blob of src to dst. It can be stopped and run
// again: a blob already in dst with the same size is skipped. Every copy is
// hashed on the way (a local file whose bytes do not match its key is
// reported, not copied); with Verify the objects are read back and hashed.
// Failed files are counted and the first few errors returned together.
func MigrateToS3(ctx context.Context, src *FS, dst *S3, o MigrateOptions) (MigrateProgress, error) {
	var p MigrateProgress
	type item struct {
		key  string
		size int64
	}
	var items []item
	if err := src.Walk(ctx, func(key string, _ time.Time) error {
		info, err := os.Stat(src.Path(key))
		if err != nil {
			return err
		}
		items = append(items, item{key, info.Size()})
		p.Files++
		p.Bytes += info.Size()
		return nil
	}); err != nil {
		return p, err
	}
	workers := o.Workers
	if workers <= 0 {
		workers = 4
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	work := make(chan item)
	report := func(size int64, outcome *int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		p.DoneFiles++
		p.DoneBytes += size
		*outcome++
		if err != nil && len(errs) < 10 {
			errs = append(errs, err)
		}
		if o.Progress != nil {
			o.Progress(p)
		}
	}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				copied, err := migrateOne(ctx, src, dst, it.key, it.size, o.Verify)
				switch {
				case err != nil:
					report(it.size, &p.Fails, fmt.Errorf("%s: %w", it.key, err))
				case copied:
					report(it.size, &p.Copied, nil)
				default:
					report(it.size, &p.Skipped, nil)
				}
			}
		}()
	}
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		work <- it
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return p, err
	}
	if p.Fails > 0 {
		return p, fmt.Errorf("%d files not copied: %w", p.Fails, errors.Join(errs...))
	}
	return p, nil
}

// migrateOne copies key unless dst has it with the same size; it reports
// whether it copied.
func migrateOne(ctx context.Context, src *FS, dst *S3, key string, size int64, verify bool) (bool, error) {
	have, _, err := dst.Stat(ctx, key)
	switch {
	case err == nil && have == size:
		if verify {
			return false, dst.verify(ctx, key)
		}
		return false, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return false, err
	}
	f, err := os.Open(src.Path(key))
	if err != nil {
		return false, err
	}
	defer f.Close()
	got, n, _, err := dst.Put(ctx, f)
	if err != nil {
		return false, err
	}
	if got != key || n != size {
		// The local file is damaged: what was sent is stored under its own
		// hash (an orphan the sweep removes), never under key.
		return false, fmt.Errorf("the local file does not match its key (SHA-256 %s, %d bytes)", got, n)
	}
	if verify {
		return true, dst.verify(ctx, key)
	}
	return true, nil
}

// verify reads key back and checks its SHA-256.
func (s *S3) verify(ctx context.Context, key string) error {
	b, err := s.Open(ctx, key)
	if err != nil {
		return err
	}
	defer b.Close()
	h := sha256.New()
	if _, err := io.Copy(h, b); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != key {
		return fmt.Errorf("the object in S3 has SHA-256 %s", got)
	}
	return nil
}
