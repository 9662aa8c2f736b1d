package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The helpers below run a primary and a streaming replica on loopback, for
// the failover test: Replica clones a running test cluster with
// pg_basebackup -R, SyncStandby makes the primary wait for the replica on
// every commit, Kill ends a server the hard way and Promote turns the
// replica into the new primary.

// Replica describes a streaming replica of primary in dir on port; Start
// makes its base backup (pg_basebackup -R: standby.signal and the
// primary's connection settings) when dir holds no cluster yet.
func (primary *Cluster) Replica(dir string, port int) (*Cluster, error) {
	if primary.Private {
		return nil, errors.New("a private cluster has no TCP listener to replicate from")
	}
	r, err := New(dir, port)
	if err != nil {
		return nil, err
	}
	r.primary = primary
	return r, nil
}

// baseBackup copies the primary into the replica's empty data folder.
func (c *Cluster) baseBackup(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_basebackup", "-D", c.Dir, "-h", "127.0.0.1", "-p", strconv.Itoa(c.primary.Port),
		"-U", "postgres", "-X", "stream", "-R", "--no-sync", "-c", "fast"); err != nil {
		return fmt.Errorf("pg_basebackup: %v: %s", err, out)
	}
	return nil
}

// SyncCommit is the Settings a primary needs before SyncStandby: a test
// cluster turns synchronous commit off on its command line, which no
// ALTER SYSTEM can override.
const SyncCommit = "-c synchronous_commit=on"

// SyncStandby makes every commit on this primary wait until a standby has
// flushed it (synchronous_standby_names '*'), so a commit a client saw
// survives the primary's death. Call it once the replica streams: until then
// commits would wait. The primary must run with SyncCommit.
func (c *Cluster) SyncStandby(ctx context.Context) error {
	out, err := c.SQL(ctx, "postgres", `ALTER SYSTEM SET synchronous_standby_names = '*'`, `SELECT pg_reload_conf()`, `SHOW synchronous_commit`)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(strings.TrimSpace(out), "on") {
		return fmt.Errorf("synchronous_commit is not on (start the primary with Settings: localpg.SyncCommit): %s", out)
	}
	return nil
}

// Streaming reports whether a replica streams from this primary in sync.
func (c *Cluster) Streaming(ctx context.Context) (bool, error) {
	out, err := c.SQL(ctx, "postgres", `SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'sync'`)
	return strings.TrimSpace(out) != "0" && err == nil, err
}

// Promote ends recovery on a replica: it becomes a primary that takes writes.
func (c *Cluster) Promote(ctx context.Context) error {
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-w", "-t", "60", "promote"); err != nil {
		return fmt.Errorf("pg_ctl promote: %v: %s", err, out)
	}
	return nil
}

// Kill ends the server with SIGKILL to its postmaster, as a crash or a
// machine's death would: no shutdown checkpoint, no goodbye to clients (the
// backends see their postmaster gone and exit). It returns once the
// postmaster is gone.
func (c *Cluster) Kill(ctx context.Context) error {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return fmt.Errorf("postmaster.pid: %w", err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for c.Running(ctx) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// SQL runs statements with psql in database db and returns their output.
func (c *Cluster) SQL(ctx context.Context, db string, statements ...string) (string, error) {
	args := []string{"-h", c.psqlHost(), "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-tA"}
	for _, s := range statements {
		args = append(args, "-c", s)
	}
	out, err := exec.CommandContext(ctx, "psql", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql: %v: %s", err, out)
	}
	return string(out), nil
}
