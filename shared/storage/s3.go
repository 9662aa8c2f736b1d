package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Options configure an S3 store.
type S3Options struct {
	// Endpoint is the server's URL (https://s3.eu-west-1.amazonaws.com,
	// http://127.0.0.1:7070); empty is AWS S3 itself.
	Endpoint string
	Bucket   string
	Region   string
	// Creds nil: the usual AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
	// AWS_SESSION_TOKEN, then ~/.aws/credentials with AWS_PROFILE, then the
	// EC2/ECS instance role).
	Creds *credentials.Credentials
	// Transport nil: Go's default; a wrapper can count requests and errors
	// (metrics).
	Transport http.RoundTripper
}

// Object layout in the bucket: blobs as ab/cd/abcd…(64 hex) like the local
// folder, uploads in progress under tmp/.
const (
	s3TmpPrefix = "tmp/"
	// s3SmallMax: a blob up to this size is hashed in memory and sent with
	// one PUT straight to its content key (one PUT is atomic).
	s3SmallMax = 1 << 20
	// s3PartSize: larger blobs go up in parts of this size (S3's minimum is
	// 5 MiB; 10,000 parts allow 80 GiB). One buffer per upload in progress.
	s3PartSize = 8 << 20
)

var (
	smallBufs = sync.Pool{New: func() any { b := make([]byte, s3SmallMax); return &b }}
	partBufs  = sync.Pool{New: func() any { b := make([]byte, s3PartSize); return &b }}
)

// S3 stores blobs in an S3 bucket under their SHA-256, like FS.
type S3 struct {
	client *minio.Client
	core   minio.Core
	Bucket string
}

// NewS3 connects to the bucket and checks that it exists.
func NewS3(ctx context.Context, o S3Options) (*S3, error) {
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("S3 endpoint %q is not a URL such as https://s3.eu-west-1.amazonaws.com", o.Endpoint)
	}
	creds := o.Creds
	if creds == nil {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	c, err := minio.New(u.Host, &minio.Options{Creds: creds, Secure: u.Scheme == "https", Region: o.Region, Transport: o.Transport})
	if err != nil {
		return nil, err
	}
	s := &S3{client: c, core: minio.Core{Client: c}, Bucket: o.Bucket}
	ok, err := c.BucketExists(ctx, o.Bucket)
	if err != nil {
		return nil, fmt.Errorf("S3 bucket %q at %s: %w", o.Bucket, endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("S3 bucket %q does not exist at %s", o.Bucket, endpoint)
	}
	return s, nil
}

// ObjectName is where key is stored in the bucket (key must be valid).
func ObjectName(key string) string { return key[:2] + "/" + key[2:4] + "/" + key }

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey"
}

// countingHash hashes and counts what passes through it.
type countingHash struct {
	r io.Reader
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
	n int64
}

func (c *countingHash) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// Put hashes r while sending it. A small blob goes with one PUT to its
// content key (its hash is known before it is sent). A larger one is
// uploaded in parts to a temporary key, then copied on the server to its
// content key and the temporary object removed, so no partial object is ever
// under a content key and memory stays one part. Putting existing content
// again writes it again, which makes it fresh for the orphan sweep.
func (s *S3) Put(ctx context.Context, r io.Reader) (string, int64, bool, error) {
	src := &countingHash{r: ctxReader{ctx, r}, h: sha256.New()}
	sp := smallBufs.Get().(*[]byte)
	n, err := io.ReadFull(src, *sp)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		defer smallBufs.Put(sp)
		key := hex.EncodeToString(src.h.Sum(nil))
		existed, err := s.exists(ctx, key)
		if err != nil {
			return "", 0, false, err
		}
		if _, err := s.core.PutObject(ctx, s.Bucket, ObjectName(key), bytes.NewReader((*sp)[:n]), int64(n), "", "", minio.PutObjectOptions{}); err != nil {
			return "", 0, false, err
		}
		return key, int64(n), !existed, nil
	}
	if err != nil {
		smallBufs.Put(sp)
		return "", 0, false, err
	}
	// Larger than one small buffer: multipart to a temporary key.
	pp := partBufs.Get().(*[]byte)
	defer partBufs.Put(pp)
	part := *pp
	copy(part, (*sp)[:n])
	smallBufs.Put(sp)
	tmp := s3TmpPrefix + "put-" + randomHex()
	id, err := s.core.NewMultipartUpload(ctx, s.Bucket, tmp, minio.PutObjectOptions{})
	if err != nil {
		return "", 0, false, err
	}
	cleanup := func() {
		// Without the request's context: the upload must go even when the
		// request was cancelled.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = s.core.AbortMultipartUpload(bg, s.Bucket, tmp, id)
	}
	var parts []minio.CompletePart
	fill := n
	for num := 1; ; num++ {
		m, rerr := io.ReadFull(src, part[fill:])
		fill += m
		last := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !last {
			cleanup()
			return "", 0, false, rerr
		}
		if fill > 0 || num == 1 {
			p, err := s.core.PutObjectPart(ctx, s.Bucket, tmp, id, num, bytes.NewReader(part[:fill]), int64(fill), minio.PutObjectPartOptions{})
			if err != nil {
				cleanup()
				return "", 0, false, err
			}
			parts = append(parts, minio.CompletePart{PartNumber: num, ETag: p.ETag,
				ChecksumCRC32: p.ChecksumCRC32, ChecksumCRC32C: p.ChecksumCRC32C, ChecksumSHA1: p.ChecksumSHA1,
				ChecksumSHA256: p.ChecksumSHA256, ChecksumCRC64NVME: p.ChecksumCRC64NVME})
		}
		fill = 0
		if last {
			break
		}
	}
	if _, err := s.core.CompleteMultipartUpload(ctx, s.Bucket, tmp, id, parts, minio.PutObjectOptions{}); err != nil {
		cleanup()
		return "", 0, false, err
	}
	defer func() {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = s.client.RemoveObject(bg, s.Bucket, tmp, minio.RemoveObjectOptions{})
	}()
	key := hex.EncodeToString(src.h.Sum(nil))
	existed, err := s.exists(ctx, key)
	if err != nil {
		return "", 0, false, err
	}
	// ComposeObject copies on the server (a multipart copy above 5 GiB).
	if _, err := s.client.ComposeObject(ctx, minio.CopyDestOptions{Bucket: s.Bucket, Object: ObjectName(key)},
		minio.CopySrcOptions{Bucket: s.Bucket, Object: tmp}); err != nil {
		return "", 0, false, err
	}
	return key, src.n, !existed, nil
}

func randomHex() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *S3) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.StatObject(ctx, s.Bucket, ObjectName(key), minio.StatObjectOptions{})
	if isNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// Stat is the size and last write of key (ErrNotFound if absent).
func (s *S3) Stat(ctx context.Context, key string) (int64, time.Time, error) {
	if !ValidKey(key) {
		return 0, time.Time{}, ErrNotFound
	}
	info, err := s.client.StatObject(ctx, s.Bucket, ObjectName(key), minio.StatObjectOptions{})
	if isNotFound(err) {
		return 0, time.Time{}, ErrNotFound
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	return info.Size, info.LastModified, nil
}

// Open returns the blob of key; its reads are ranged GETs.
func (s *S3) Open(ctx context.Context, key string) (Blob, error) {
	size, _, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	return &s3Blob{s: s, ctx: ctx, name: ObjectName(key), size: size}, nil
}

// Delete removes key; a missing key is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return nil
	}
	err := s.client.RemoveObject(ctx, s.Bucket, ObjectName(key), minio.RemoveObjectOptions{})
	if isNotFound(err) {
		return nil
	}
	return err
}

// Walk lists the stored blobs (not the uploads under tmp/).
func (s *S3) Walk(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	for obj := range s.client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			return obj.Err
		}
		i := strings.LastIndexByte(obj.Key, '/')
		key := obj.Key[i+1:]
		if !ValidKey(key) || ObjectName(key) != obj.Key {
			continue
		}
		if err := fn(key, obj.LastModified); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// ModTime is the last write (or repeated Put) of key.
func (s *S3) ModTime(ctx context.Context, key string) (time.Time, error) {
	_, t, err := s.Stat(ctx, key)
	return t, err
}

// PurgeTemp removes uploads under tmp/ older than age that a crash left:
// finished temporary objects and unfinished multipart uploads.
func (s *S3) PurgeTemp(age time.Duration) (int, error) {
	ctx := context.Background()
	cutoff := time.Now().Add(-age)
	n := 0
	for obj := range s.client.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Prefix: s3TmpPrefix, Recursive: true}) {
		if obj.Err != nil {
			return n, obj.Err
		}
		if obj.LastModified.Before(cutoff) && s.client.RemoveObject(ctx, s.Bucket, obj.Key, minio.RemoveObjectOptions{}) == nil {
			n++
		}
	}
	for up := range s.client.ListIncompleteUploads(ctx, s.Bucket, s3TmpPrefix, true) {
		if up.Err != nil {
			return n, up.Err
		}
		if up.Initiated.Before(cutoff) && s.core.AbortMultipartUpload(ctx, s.Bucket, up.Key, up.UploadID) == nil {
			n++
		}
	}
	return n, nil
}

// s3Blob reads an object with ranged GETs through a read-ahead window:
// scattered small reads (a DICOM parser) cost one request per window, and a
// sequential read doubles its window up to s3MaxWindow (the ZIP, a download).
type s3Blob struct {
	s    *S3
	ctx  context.Context
	name string
	size int64

	mu     sync.Mutex
	buf    []byte // the window [bufOff, bufOff+len(buf))
	bufOff int64
	window int
	pos    int64 // Read's position
}

const (
	s3MinWindow = 64 << 10
	s3MaxWindow = 4 << 20
)

func (b *s3Blob) Size() int64 { return b.size }

func (b *s3Blob) Close() error {
	b.mu.Lock()
	b.buf = nil
	b.mu.Unlock()
	return nil
}

func (b *s3Blob) Read(p []byte) (int, error) {
	b.mu.Lock()
	pos := b.pos
	b.mu.Unlock()
	n, err := b.ReadAt(p, pos)
	b.mu.Lock()
	b.pos += int64(n)
	b.mu.Unlock()
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt serves p from the window or fetches the range it needs.
func (b *s3Blob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("storage: negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	want := int64(len(p))
	if off+want > b.size {
		want = b.size - off
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for int64(n) < want {
		o := off + int64(n)
		if o >= b.bufOff && o < b.bufOff+int64(len(b.buf)) {
			n += copy(p[n:want], b.buf[o-b.bufOff:])
			continue
		}
		if err := b.fill(o); err != nil {
			return n, err
		}
	}
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// fill loads the window at off: twice as large as the last one when the
// read goes on where it ended, the smallest otherwise.
func (b *s3Blob) fill(off int64) error {
	if b.buf != nil && off == b.bufOff+int64(len(b.buf)) {
		b.window = min(b.window*2, s3MaxWindow)
	} else {
		b.window = s3MinWindow
	}
	end := min(off+int64(b.window), b.size)
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, end-1); err != nil {
		return err
	}
	rc, _, _, err := b.s.core.GetObject(b.ctx, b.s.Bucket, b.name, opts)
	if err != nil {
		if isNotFound(err) {
			return ErrNotFound
		}
		return err
	}
	defer rc.Close()
	if cap(b.buf) < int(end-off) {
		b.buf = make([]byte, end-off)
	}
	b.buf = b.buf[:end-off]
	if _, err := io.ReadFull(rc, b.buf); err != nil {
		b.buf = nil
		return fmt.Errorf("storage: ranged read of %s: %w", b.name, err)
	}
	b.bufOff = off
	return nil
}
