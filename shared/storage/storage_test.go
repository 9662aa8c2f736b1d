package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/tests3"
)

func TestMain(m *testing.M) { tests3.Main(m) }

// store is what every backend offers the rest of RadPass.
type store interface {
	storage.Lister
	storage.TempPurger
}

// backend is one store under test with what the tests need to look behind it.
type backend struct {
	st store
	// age sets the last write of key.
	age func(key string, t time.Time)
	// leftovers counts uploads in progress (temporary files, objects, parts).
	leftovers func() int
	// crash leaves uploads aside as a crash would and says how many.
	crash func() int
}

// backends runs fn against a fresh local folder and a fresh S3 bucket, in
// parallel.
func backends(t *testing.T, fn func(t *testing.T, b backend)) { runBackends(t, true, fn) }

func runBackends(t *testing.T, parallel bool, fn func(t *testing.T, b backend)) {
	t.Run("fs", func(t *testing.T) {
		if parallel {
			t.Parallel()
		}
		s, err := storage.NewFS(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		fn(t, backend{st: s,
			age: func(key string, at time.Time) {
				if err := os.Chtimes(s.Path(key), at, at); err != nil {
					t.Fatal(err)
				}
			},
			leftovers: func() int {
				left, _ := os.ReadDir(filepath.Join(s.Root, "tmp"))
				return len(left)
			},
			crash: func() int {
				if err := os.WriteFile(filepath.Join(s.Root, "tmp", "put-crashed"), []byte("half"), 0o600); err != nil {
					t.Fatal(err)
				}
				return 1
			}})
	})
	t.Run("s3", func(t *testing.T) {
		if parallel {
			t.Parallel()
		}
		srv := tests3.Start(t)
		o := srv.NewBucket(t)
		s, err := storage.NewS3(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, backend{st: s,
			age:       func(key string, at time.Time) { srv.Age(t, o, storage.ObjectName(key), at) },
			leftovers: func() int { return s3Leftovers(t, o) },
			crash: func() int {
				c := minio.Core{Client: s3Client(t, o)}
				ctx := context.Background()
				if _, err := c.PutObject(ctx, o.Bucket, "tmp/put-crashed", strings.NewReader("half"), 4, "", "", minio.PutObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				if _, err := c.NewMultipartUpload(ctx, o.Bucket, "tmp/put-unfinished", minio.PutObjectOptions{}); err != nil {
					t.Fatal(err)
				}
				return 2
			}})
	})
}

func s3Client(t *testing.T, o storage.S3Options) *minio.Client {
	t.Helper()
	c, err := minio.New(strings.TrimPrefix(o.Endpoint, "http://"), &minio.Options{Creds: o.Creds, Region: o.Region})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// s3Leftovers counts objects under tmp/ and unfinished multipart uploads.
func s3Leftovers(t *testing.T, o storage.S3Options) int {
	t.Helper()
	c := s3Client(t, o)
	ctx := context.Background()
	n := 0
	for obj := range c.ListObjects(ctx, o.Bucket, minio.ListObjectsOptions{Prefix: "tmp/", Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		n++
	}
	for up := range c.ListIncompleteUploads(ctx, o.Bucket, "", true) {
		if up.Err != nil {
			t.Fatal(up.Err)
		}
		n++
	}
	return n
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// patterned is n bytes that differ from one call to the next (seed).
func patterned(n int, seed uint64) []byte {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// Put stores under the SHA-256, reports an existing content as not created,
// Open reads it back whole, Delete removes it, no upload is left aside.
// Sizes: small (one PUT on S3), exactly the small limit, and several parts.
func TestStorePutOpenDelete(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		for i, size := range []int{40000, 1 << 20, 9<<20 + 3} {
			data := patterned(size, uint64(i+1))
			key, n, created, err := b.st.Put(ctx, bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if key != sum(data) || n != int64(len(data)) || !created {
				t.Fatalf("Put(%d bytes) = %s %d %v", size, key, n, created)
			}
			key2, _, created2, err := b.st.Put(ctx, bytes.NewReader(data))
			if err != nil || key2 != key || created2 {
				t.Fatalf("second Put = %s %v %v", key2, created2, err)
			}
			bl, err := b.st.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(bl)
			bl.Close()
			if err != nil || !bytes.Equal(got, data) || bl.Size() != int64(len(data)) {
				t.Fatalf("read back %d of %d bytes, equal %v, err %v", len(got), len(data), bytes.Equal(got, data), err)
			}
			if err := b.st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if _, err := b.st.Open(ctx, key); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after delete: %v", err)
			}
			if err := b.st.Delete(ctx, key); err != nil {
				t.Fatalf("deleting a missing key: %v", err)
			}
		}
		if n := b.leftovers(); n != 0 {
			t.Fatalf("%d uploads left aside", n)
		}
	})
}

// ReadAt answers any range, scattered or sequential, like the bytes
// themselves (the viewer and the ZIP read stored files this way), and says
// io.EOF past the end.
func TestStoreReadAt(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		data := patterned(5<<20+17, 7)
		key, _, _, err := b.st.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		bl, err := b.st.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer bl.Close()
		r := rand.New(rand.NewPCG(1, 2))
		for range 100 {
			off := r.Int64N(int64(len(data)))
			n := 1 + r.IntN(300<<10)
			p := make([]byte, n)
			got, err := bl.ReadAt(p, off)
			want := min(n, len(data)-int(off))
			if got != want || !bytes.Equal(p[:got], data[off:off+int64(got)]) {
				t.Fatalf("ReadAt(%d, %d) = %d bytes (want %d), err %v", n, off, got, want, err)
			}
			if want < n && err != io.EOF {
				t.Fatalf("ReadAt past the end: %v, want io.EOF", err)
			}
			if want == n && err != nil {
				t.Fatalf("ReadAt(%d, %d): %v", n, off, err)
			}
		}
		// Sequential small reads, as io.Copy through a SectionReader.
		var out bytes.Buffer
		if _, err := io.Copy(&out, io.NewSectionReader(bl, 100, int64(len(data))-100)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data[100:]) {
			t.Fatal("sequential read differs")
		}
		if _, err := bl.ReadAt(make([]byte, 1), int64(len(data))); err != io.EOF {
			t.Fatalf("ReadAt at the end: %v, want io.EOF", err)
		}
	})
}

func TestStoreRejectsBadKeys(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b backend) {
		for _, k := range []string{"", "../../etc/passwd", "ABCDEF", "zz" + hex.EncodeToString(make([]byte, 31)), "tmp/x"} {
			if _, err := b.st.Open(context.Background(), k); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Open(%q) = %v, want ErrNotFound", k, err)
			}
		}
	})
}

// A cancelled Put stores nothing and leaves nothing aside, small or large.
func TestStorePutCancelled(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b backend) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, _, err := b.st.Put(ctx, bytes.NewReader([]byte("x"))); err == nil {
			t.Fatal("Put with a cancelled context succeeded")
		}
		// Cancelled in the middle of a multipart upload.
		ctx, cancel = context.WithCancel(context.Background())
		r := &cancelAfter{r: bytes.NewReader(patterned(20<<20, 3)), left: 12 << 20, cancel: cancel}
		if _, _, _, err := b.st.Put(ctx, r); err == nil {
			t.Fatal("Put cancelled midway succeeded")
		}
		if n := b.leftovers(); n != 0 {
			t.Fatalf("%d uploads left aside", n)
		}
		count := 0
		if err := b.st.Walk(context.Background(), func(string, time.Time) error { count++; return nil }); err != nil || count != 0 {
			t.Fatalf("stored after cancelled puts: %d (%v)", count, err)
		}
	})
}

// cancelAfter cancels its context once left bytes have been read.
type cancelAfter struct {
	r      io.Reader
	left   int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), max(c.left, 1))])
	c.left -= n
	return n, err
}

// Walk lists the stored blobs with their last write, not uploads aside;
// ModTime reports one blob; putting content again makes it fresh.
func TestStoreWalkModTime(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		old := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
		keys := map[string]bool{}
		for i := range 3 {
			key, _, _, err := b.st.Put(ctx, bytes.NewReader(patterned(1000+i, uint64(i))))
			if err != nil {
				t.Fatal(err)
			}
			keys[key] = true
		}
		var first string
		for k := range keys {
			first = k
			break
		}
		b.age(first, old)
		seen := map[string]time.Time{}
		if err := b.st.Walk(ctx, func(k string, mod time.Time) error { seen[k] = mod; return nil }); err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(keys) {
			t.Fatalf("Walk saw %d blobs, want %d", len(seen), len(keys))
		}
		for k := range keys {
			if _, ok := seen[k]; !ok {
				t.Fatalf("Walk missed %s", k)
			}
		}
		if !seen[first].Equal(old) {
			t.Fatalf("Walk: aged blob written %v, want %v", seen[first], old)
		}
		mod, err := b.st.ModTime(ctx, first)
		if err != nil || !mod.Equal(old) {
			t.Fatalf("ModTime = %v, %v; want %v", mod, err, old)
		}
		if _, err := b.st.ModTime(ctx, sum([]byte("absent"))); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("ModTime of an absent key: %v", err)
		}
		// Put the aged content again: fresh.
		bl, err := b.st.Open(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(bl)
		bl.Close()
		if _, _, created, err := b.st.Put(ctx, bytes.NewReader(data)); err != nil || created {
			t.Fatalf("Put again: created %v, %v", created, err)
		}
		if mod, err := b.st.ModTime(ctx, first); err != nil || !mod.After(old.Add(time.Hour)) {
			t.Fatalf("after Put again, ModTime = %v, %v", mod, err)
		}
	})
}

// PurgeTemp removes the uploads a crash left aside once they are old
// enough, and nothing else.
func TestStorePurgeTemp(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		key, _, _, err := b.st.Put(ctx, strings.NewReader("kept"))
		if err != nil {
			t.Fatal(err)
		}
		want := b.crash()
		if n := b.leftovers(); n != want {
			t.Fatalf("%d uploads aside after the crash, want %d", n, want)
		}
		if n, err := b.st.PurgeTemp(time.Hour); err != nil || n != 0 {
			t.Fatalf("PurgeTemp(1h) of young uploads = %d, %v", n, err)
		}
		// A cutoff an hour ahead: every upload aside is old enough.
		if n, err := b.st.PurgeTemp(-time.Hour); err != nil || n != want {
			t.Fatalf("PurgeTemp(-1h) = %d, %v; want %d", n, err, want)
		}
		if n := b.leftovers(); n != 0 {
			t.Fatalf("%d uploads left after PurgeTemp", n)
		}
		if _, err := b.st.ModTime(ctx, key); err != nil {
			t.Fatalf("stored blob after PurgeTemp: %v", err)
		}
	})
}

// An upload of a large blob keeps memory to a few parts whatever the
// blob's size (S3: 8 MiB parts; the local folder: io.Copy's buffer): the
// heap, sampled all along the upload, never grows by anything near the blob.
func TestStorePutConstantMemory(t *testing.T) {
	// One backend at a time: the heap is the process's.
	runBackends(t, false, func(t *testing.T, b backend) {
		ctx := context.Background()
		const size = 64 << 20
		// Warm the buffer pools and the connection first.
		if _, _, _, err := b.st.Put(ctx, io.LimitReader(&counter{}, 2<<20)); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		base := heapObjects()
		stop, peak := make(chan struct{}), make(chan uint64)
		go func() {
			top := base
			for {
				select {
				case <-stop:
					peak <- top
					return
				default:
				}
				top = max(top, heapObjects())
				runtime.Gosched()
			}
		}()
		key, n, _, err := b.st.Put(ctx, io.LimitReader(&counter{seed: 1}, size))
		close(stop)
		top := <-peak
		if err != nil || n != size {
			t.Fatalf("Put = %d, %v", n, err)
		}
		grew := top - min(top, base)
		t.Logf("Put of %d MiB: the heap grew by at most %.1f MiB", size>>20, float64(grew)/(1<<20))
		if grew > 40<<20 {
			t.Fatalf("Put of %d MiB grew the heap by %d MiB: memory grows with the blob", size>>20, grew>>20)
		}
		if err := b.st.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
	})
}

// heapObjects is the heap's bytes in objects, live or not yet swept.
func heapObjects() uint64 {
	s := [1]metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s[:])
	return s[0].Value.Uint64()
}

// counter is an endless stream of bytes that differs by seed.
type counter struct {
	seed byte
	i    int
}

var pattern = patterned(1<<16, 99)

func (c *counter) Read(p []byte) (int, error) {
	n := copy(p, pattern[c.i:])
	for i := range min(n, 8) {
		p[i] ^= c.seed
	}
	c.i = (c.i + n) % len(pattern)
	return n, nil
}
