// Package storage keeps DICOM files (and report PDFs) content-addressed: the
// key of a blob is the SHA-256 of its bytes. The Store interface is small so
// an S3 bucket (S3) can replace the local folder (FS).
package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrNotFound is returned for a key that is not stored.
var ErrNotFound = errors.New("storage: not found")

// Blob is an opened stored object: readable at any offset, with its size.
type Blob interface {
	io.ReadCloser
	io.ReaderAt
	Size() int64
}

// Store is what the rest of RadPass needs from a blob store.
type Store interface {
	// Put streams r into the store while hashing it. created is false when
	// the same content was already there (then nothing new was written).
	Put(ctx context.Context, r io.Reader) (key string, size int64, created bool, err error)
	// Open returns the blob of key, or ErrNotFound.
	Open(ctx context.Context, key string) (Blob, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// FS stores blobs as files under Root: Root/ab/cd/abcd…(64 hex).
type FS struct {
	Root string
}

// NewFS makes the root folder if needed.
func NewFS(root string) (*FS, error) {
	if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o750); err != nil {
		return nil, fmt.Errorf("storage root: %w", err)
	}
	return &FS{Root: root}, nil
}

var keyRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidKey reports a well-formed key (so a key can never walk the file system).
func ValidKey(key string) bool { return keyRe.MatchString(key) }

// Path is the file of key (key must be valid).
func (s *FS) Path(key string) string {
	return filepath.Join(s.Root, key[:2], key[2:4], key)
}

// Put writes to a temporary file while hashing, syncs it, then renames it to
// its content address, so a crash never leaves a partial file under a key.
func (s *FS) Put(ctx context.Context, r io.Reader) (string, int64, bool, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.Root, "tmp"), "put-*")
	if err != nil {
		return "", 0, false, err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, false, err
	}
	key := hex.EncodeToString(h.Sum(nil))
	dst := s.Path(key)
	if _, err := os.Stat(dst); err == nil {
		// Fresh again: the orphan sweep leaves young files alone, so it never
		// removes a file whose row is about to be written.
		now := time.Now()
		_ = os.Chtimes(dst, now, now)
		return key, n, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", 0, false, err
	}
	if err := os.Rename(tmpName, dst); err != nil {
		return "", 0, false, err
	}
	return key, n, true, nil
}

// Open opens the file of key.
func (s *FS) Open(_ context.Context, key string) (Blob, error) {
	if !ValidKey(key) {
		return nil, ErrNotFound
	}
	f, err := os.Open(s.Path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileBlob{File: f, size: st.Size()}, nil
}

// Delete removes the file of key.
func (s *FS) Delete(_ context.Context, key string) error {
	if !ValidKey(key) {
		return nil
	}
	err := os.Remove(s.Path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Lister is a Store whose blobs can be listed, for the orphan sweep.
type Lister interface {
	Store
	// Walk calls fn for every stored key with the time it was last written.
	Walk(ctx context.Context, fn func(key string, modTime time.Time) error) error
	// ModTime is when key was last written (or put again), ErrNotFound if absent.
	ModTime(ctx context.Context, key string) (time.Time, error)
}

// Walk lists the stored blobs (not the temporary files of Put).
func (s *FS) Walk(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	return filepath.WalkDir(s.Root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if d.IsDir() {
			if path != s.Root && filepath.Dir(path) == s.Root && d.Name() == "tmp" {
				return filepath.SkipDir
			}
			return nil
		}
		key := d.Name()
		if !ValidKey(key) || s.Path(key) != path {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(key, info.ModTime())
	})
}

// ModTime is the last write (or repeated Put) of key.
func (s *FS) ModTime(_ context.Context, key string) (time.Time, error) {
	if !ValidKey(key) {
		return time.Time{}, ErrNotFound
	}
	info, err := os.Stat(s.Path(key))
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, ErrNotFound
	}
	if err != nil {
		return time.Time{}, err
	}
	return info.ModTime(), nil
}

// TempPurger is a Store whose Put keeps uploads in progress aside (FS, S3):
// a crash can leave them behind.
type TempPurger interface {
	// PurgeTemp removes those older than age and returns how many.
	PurgeTemp(age time.Duration) (int, error)
}

// PurgeTemp removes temporary files of Put older than age (left by a crash
// in the middle of a copy). It returns how many it removed.
func (s *FS) PurgeTemp(age time.Duration) (int, error) {
	dir := filepath.Join(s.Root, "tmp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), "put-") {
			continue
		}
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < age {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}

type fileBlob struct {
	*os.File
	size int64
}

func (b *fileBlob) Size() int64 { return b.size }

// ContextReader stops a long copy when ctx (a request, a command) ends.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

// ctxReader stops a long copy when the request or command is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
