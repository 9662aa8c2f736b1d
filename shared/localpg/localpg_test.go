package localpg_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/localpg"
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
	db, err := database.Open(ctx, cl.DSN("radpass"))
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
	db, err = database.Open(ctx, cl.DSN("radpass"))
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

// The dev cluster (`make run`) is private and durable: no TCP listener at
// all, the socket inside the 0700 data folder, fsync, synchronous commit and
// full-page writes on. The throwaway test cluster keeps TCP and speed.
func TestPrivateClusterIsPrivateAndDurable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	root, err := os.MkdirTemp("/tmp", "pgp") // short: the socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	port := freePort(t)
	cl, err := localpg.NewPrivate(filepath.Join(root, "pg"), port)
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
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second); err == nil {
		c.Close()
		t.Fatalf("the private cluster listens on TCP port %d", port)
	}
	if strings.Contains(cl.DSN("radpass"), "127.0.0.1") {
		t.Fatalf("DSN %s goes over TCP", cl.DSN("radpass"))
	}
	fi, err := os.Stat(cl.Dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data folder mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	db, err := database.Open(ctx, cl.DSN("radpass"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		var v string
		if err := db.NewRaw("SELECT current_setting(?)", name).Scan(ctx, &v); err != nil {
			t.Fatal(err)
		}
		if v != "on" {
			t.Errorf("%s = %s in the dev cluster, want on", name, v)
		}
	}
}

// The test cluster `radpass localpg start` makes is not the dev cluster:
// TCP on loopback for every test and helper, and fast (fsync off).
func TestTestClusterStaysFast(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := localpg.New(filepath.Join(t.TempDir(), "pg"), freePort(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })
	if err := cl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cl.DSN("postgres"), "@127.0.0.1:") {
		t.Fatalf("test cluster DSN %s", cl.DSN("postgres"))
	}
	db, err := database.Open(ctx, cl.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.NewRaw("SELECT current_setting('fsync')").Scan(ctx, &v); err != nil || v != "off" {
		t.Fatalf("fsync = %q (%v) in the test cluster, want off", v, err)
	}
}
