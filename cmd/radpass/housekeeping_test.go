package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// The serve loop's housekeeping removes old stored files that no row names
// and keeps young ones (an import writes its file before its row).
func TestHousekeepingSweepsOrphanedFiles(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	dataDir := t.TempDir()
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "RADPASS_DEV":
			return "1"
		case "RADPASS_DATA_DIR":
			return dataDir
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := server.New(server.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	st := a.Staff.DICOM.Store.(*storage.FS)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	put := func(s string) string {
		key, _, _, err := st.Put(ctx, strings.NewReader(s))
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	orphan, young := put("%PDF-1.4\n% replaced long ago\n"), put("%PDF-1.4\n% just written\n")
	old := time.Now().Add(-72 * time.Hour)
	if err := os.Chtimes(st.Path(orphan), old, old); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(st.Root, "tmp", "put-crashed")
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(leftover, old, old); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		housekeeping(ctx, a, slog.New(slog.NewTextHandler(io.Discard, nil)), 20*time.Millisecond)
		close(done)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, errOrphan := st.ModTime(ctx, orphan)
		_, errLeft := os.Stat(leftover)
		if errOrphan != nil && errLeft != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan still there: %v, temp file still there: %v", errOrphan == nil, errLeft == nil)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if _, err := st.ModTime(context.Background(), young); err != nil {
		t.Fatalf("the young file was removed: %v", err)
	}
}
