package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/tests3"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// `radpass storage migrate --to s3` copies every blob of the local folder
// (small ones and one of several parts), byte for byte; run again it copies
// only what is missing; a damaged local file is reported (exit 1) and never
// stored under its key; --verify reads everything back.
func TestStorageMigrateToS3(t *testing.T) {
	t.Parallel()
	srv := tests3.Start(t)
	o := srv.NewBucket(t)
	ctx := context.Background()
	dataDir := t.TempDir()
	local, err := storage.NewFS(filepath.Join(dataDir, "dicom"))
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{}
	for i, size := range []int{10, 5000, 3<<20 + 1} {
		data := bytes.Repeat([]byte{byte(i + 1), 'x'}, size/2+1)
		key, _, _, err := local.Put(ctx, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		blobs[key] = data
	}
	env := map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": dataDir, "RADPASS_SECRET_KEY": strongKey}
	for _, kv := range srv.Env(o) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	r := radpass(t, env, "", "storage", "migrate", "--to", "s3")
	if r.code != 0 || !strings.Contains(r.stdout, "3 files (3.0 MiB): 3 copied, 0 already there, 0 failed") || !strings.Contains(r.stdout, "100% 3/3 files") {
		t.Fatalf("migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	dst, err := storage.NewS3(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for key, data := range blobs {
		b, err := dst.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(b)
		b.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("object %s differs from the local file", key[:8])
		}
	}
	// A file added locally afterwards, and one whose bytes no longer match
	// its key (a damaged disk): the second run copies the first, reports the
	// second, and skips the rest.
	added, _, _, err := local.Put(ctx, strings.NewReader("added later"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("damaged"))
	damaged := hex.EncodeToString(sum[:])
	if err := os.MkdirAll(filepath.Dir(local.Path(damaged)), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(local.Path(damaged), []byte("DAMAGED"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = radpass(t, env, "", "storage", "migrate", "--to", "s3", "--verify")
	if r.code != 1 || !strings.Contains(r.stdout, "5 files") || !strings.Contains(r.stdout, "1 copied, 3 already there, 1 failed") ||
		!strings.Contains(r.stderr, damaged) || !strings.Contains(r.stderr, "does not match its key") {
		t.Fatalf("second migrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := dst.Open(ctx, added); err != nil {
		t.Fatalf("file added later: %v", err)
	}
	if _, err := dst.Open(ctx, damaged); err == nil {
		t.Fatal("the damaged file is stored under its key")
	}
	// Without a bucket: a usage error, nothing started.
	delete(env, "RADPASS_S3_BUCKET")
	delete(env, "RADPASS_S3_ENDPOINT")
	if r := radpass(t, env, "", "storage", "migrate", "--to", "s3"); r.code != 2 || !strings.Contains(r.stderr, "RADPASS_S3_BUCKET") {
		t.Fatalf("without a bucket: exit %d %s", r.code, r.stderr)
	}
	if r := radpass(t, env, "", "storage", "migrate", "--to", "gcs"); r.code != 2 {
		t.Fatalf("--to gcs: exit %d", r.code)
	}
}

// With RADPASS_S3_BUCKET set, `radpass import` stores the file in the bucket
// (nothing in the local folder) and `radpass serve` opens the bucket: it is
// ready with it, and refuses to start on a bucket that does not exist.
func TestImportAndServeOnS3(t *testing.T) {
	t.Parallel()
	srv := tests3.Start(t)
	o := srv.NewBucket(t)
	ctx := context.Background()
	db, dsn := testdb.NewWithURL(t)
	testserver.MustDepartment(t, db, "NORTH")
	dataDir := t.TempDir()
	addr, _ := freeAddr(t)
	env := map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey, "RADPASS_DATA_DIR": dataDir, "RADPASS_ADDR": addr}
	for _, kv := range srv.Env(o) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if r := radpass(t, env, "", "import", "--department", "NORTH", filepath.Join(sampleFolder(t), "3.dcm")); r.code != 0 {
		t.Fatalf("import: %d %s%s", r.code, r.stdout, r.stderr)
	}
	var key string
	if err := db.NewSelect().Table("instances").Column("storage_key").Scan(ctx, &key); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewS3(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, key); err != nil {
		t.Fatalf("imported file in the bucket: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "dicom", key[:2])); !os.IsNotExist(err) {
		t.Fatalf("imported file in the local folder too: %v", err)
	}
	stop(t, serveUntilReady(t, env, addr))

	env["RADPASS_S3_BUCKET"] = "radpass-no-such-bucket"
	r := radpass(t, env, "", "serve")
	if r.code == 0 || !strings.Contains(r.stderr, "radpass-no-such-bucket") {
		t.Fatalf("serve on a missing bucket: exit %d %s", r.code, r.stderr)
	}
}
