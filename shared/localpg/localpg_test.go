package localpg_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/localpg"
	"github.com/radpass/radpass/shared/store"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A cluster is created in a private (0700) folder, serves, keeps its data
// across a stop and a start, and stops cleanly: what `make run` relies on.
func TestClusterLifecycle(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root := t.TempDir()
	if err := os.Chmod(root, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "clone", ".data", "pg")
	cl, err := localpg.New(dir, freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })
	if cl.Running(ctx) {
		t.Fatal("running before Start")
	}
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !cl.Running(ctx) {
		t.Fatal("not running after Start")
	}
	if err := cl.Start(ctx); err != nil { // already running: no-op
		t.Fatalf("second Start: %v", err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := cl.CreateDatabase(ctx, "radpass"); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(ctx, cl.DSN("radpass"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if err := cl.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if cl.Running(ctx) {
		t.Fatal("running after Stop")
	}
	if err := cl.Stop(ctx); err != nil { // stopped: no-op
		t.Fatalf("second Stop: %v", err)
	}

	// A second start reuses the data.
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(ctx, cl.DSN("radpass"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.NewRaw(`SELECT v FROM kept`).Scan(ctx, &v); err != nil || v != "still here" {
		t.Fatalf("data after restart: %q (%v)", v, err)
	}
}

// A port held by another program is reported clearly instead of hanging.
func TestClusterPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	cl, err := localpg.New(filepath.Join(t.TempDir(), "pg"), ln.Addr().(*net.TCPAddr).Port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })
	err = cl.Start(context.Background())
	if err == nil {
		t.Fatal("started on a taken port")
	}
	if want := "RADPASS_PG_PORT"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say how to fix it", err)
	}
}

// A clone deep in the file system (a data path longer than a unix socket
// address may be) still starts: the server then listens on TCP only.
func TestClusterLongPath(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), strings.Repeat("deep-folder-", 8), "with space", ".data", "pg")
	cl, err := localpg.New(dir, freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.CreateDatabase(ctx, "radpass"); err != nil {
		t.Fatal(err)
	}
	if err := cl.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}
