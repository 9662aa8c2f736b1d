package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/storage"
)

func TestFSPutOpenDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("DICM"), 10000)
	sum := sha256.Sum256(data)
	key, n, created, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if key != hex.EncodeToString(sum[:]) || n != int64(len(data)) || !created {
		t.Fatalf("Put = %s %d %v", key, n, created)
	}
	// Same content again: same key, nothing new written.
	key2, _, created2, err := s.Put(ctx, bytes.NewReader(data))
	if err != nil || key2 != key || created2 {
		t.Fatalf("second Put = %s %v %v", key2, created2, err)
	}
	b, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(b)
	b.Close()
	if !bytes.Equal(got, data) || b.Size() != int64(len(data)) {
		t.Fatal("read back differs")
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	// No temporary files are left behind.
	left, _ := os.ReadDir(filepath.Join(s.Root, "tmp"))
	if len(left) != 0 {
		t.Fatalf("%d temporary files left", len(left))
	}
}

func TestFSRejectsBadKeys(t *testing.T) {
	t.Parallel()
	s, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"", "../../etc/passwd", "ABCDEF", "zz" + hex.EncodeToString(make([]byte, 31))} {
		if _, err := s.Open(context.Background(), k); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", k, err)
		}
	}
}

func TestFSPutCancelled(t *testing.T) {
	t.Parallel()
	s, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := s.Put(ctx, bytes.NewReader([]byte("x"))); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	left, _ := os.ReadDir(filepath.Join(s.Root, "tmp"))
	if len(left) != 0 {
		t.Fatalf("%d temporary files left", len(left))
	}
}
