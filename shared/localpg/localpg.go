// Package localpg runs a project-local PostgreSQL cluster with the system's
// initdb/pg_ctl: `make run` and `make test` need no database set up by hand.
// PostgreSQL refuses to run as root, so as root the cluster runs as the
// `postgres` system user in a folder it owns.
package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Cluster is one local PostgreSQL data directory. A test cluster (New) serves
// on 127.0.0.1:Port without passwords and without durability: it is thrown
// away. A private cluster (NewPrivate, what `make run` and dev mode start)
// listens only on a unix socket inside its 0700 data folder, so no other OS
// user can reach it, and runs as durably as a real deployment.
type Cluster struct {
	Dir     string // data directory (created by initdb)
	Port    int
	Log     string // server log file
	Private bool   // unix socket in Dir only, fsync and synchronous commit on
	// Settings are extra server options (-c name=value ...), after the
	// defaults so they win (a replication test turns synchronous commit on).
	Settings string

	bin     string
	asUser  string   // system user that owns and runs the cluster ("" = current user)
	primary *Cluster // a replica's primary (Replica), cloned on first Start
}

// New describes a cluster in dir on port; nothing runs until Start.
func New(dir string, port int) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: abs, Port: port, Log: abs + ".log", bin: bin}
	if os.Geteuid() == 0 {
		c.asUser = "postgres"
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, errors.New("running as root needs the `postgres` system user (install Debian's postgresql package)")
		}
	}
	return c, nil
}

// NewPrivate describes the dev cluster: no TCP listener at all, connections
// over the socket in the data folder (0700) only, durable settings.
func NewPrivate(dir string, port int) (*Cluster, error) {
	c, err := New(dir, port)
	if err != nil {
		return nil, err
	}
	c.Private = true
	if len(c.socketPath()) >= 100 || strings.ContainsAny(c.Dir, " '\"?&#%") {
		return nil, fmt.Errorf("the data folder %s is too long (or has spaces or quotes) for the PostgreSQL socket kept inside it; set RADPASS_DATA_DIR to a shorter plain path", c.Dir)
	}
	return c, nil
}

func (c *Cluster) socketPath() string {
	return filepath.Join(c.Dir, fmt.Sprintf(".s.PGSQL.%d", c.Port))
}

// findBin locates initdb/pg_ctl: PATH first, then Debian's versioned folders.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			// A link in PATH (/usr/local/bin/pg_ctl) stands for the
			// version's folder, which has the other tools (pg_basebackup).
			if real, err := filepath.EvalSymlinks(p); err == nil {
				p = real
			}
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql package")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// DSN is the connection URL of database db on this cluster.
func (c *Cluster) DSN(db string) string {
	if c.Private {
		return fmt.Sprintf("postgres://postgres@/%s?host=%s&sslmode=disable", db, c.socketPath())
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// psqlHost is psql's -h: the socket folder of a private cluster.
func (c *Cluster) psqlHost() string {
	if c.Private {
		return c.Dir
	}
	return "127.0.0.1"
}

// Settings of the two kinds of cluster. The test and bench clusters trade
// durability for speed; the dev cluster keeps PostgreSQL's durable defaults
// (a power cut must not lose or corrupt prints and audit rows).
const (
	fastSettings    = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	durableSettings = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
)

// Start creates the cluster when it does not exist yet and starts it when it is
// not already running. It returns once PostgreSQL accepts connections.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.prepareDir(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) && c.primary != nil {
		if err := c.baseBackup(ctx); err != nil {
			return err
		}
	} else if errors.Is(err, os.ErrNotExist) {
		args := []string{"-D", c.Dir, "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"}
		if c.Private {
			// Socket connections only (the folder's 0700 is the guard); TCP
			// is refused even if someone turns a listener on.
			args = append(args, "--auth-local=trust", "--auth-host=reject")
		} else {
			args = append(args, "--auth=trust", "--no-sync")
		}
		if out, err := c.run(ctx, "initdb", args...); err != nil {
			return fmt.Errorf("initdb: %v: %s", err, out)
		}
	}
	if c.Running(ctx) {
		return nil
	}
	var opts string
	if c.Private {
		if _, err := os.Stat(c.socketPath()); err == nil && !c.Running(ctx) {
			_ = os.Remove(c.socketPath()) // left by a crash; pg_ctl would refuse
		}
		opts = fmt.Sprintf("-c listen_addresses='' -p %d -k %s %s -c max_connections=200 -c shared_buffers=256MB", c.Port, c.Dir, durableSettings)
	} else {
		if portBusy(c.Port) {
			return fmt.Errorf("port %d is taken by another program; set RADPASS_PG_PORT to a free port", c.Port)
		}
		// The unix socket sits in the data folder for psql users, unless the
		// path is too long for a socket address (108 bytes): clients use TCP.
		socketDir := c.Dir
		if len(socketDir)+len("/.s.PGSQL.65535") >= 100 || strings.ContainsAny(socketDir, " '\"") {
			socketDir = "''"
		}
		opts = fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s %s -c max_connections=200 -c shared_buffers=256MB", c.Port, socketDir, fastSettings)
	}
	if c.Settings != "" {
		opts += " " + c.Settings
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-l", c.Log, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		logTail, _ := os.ReadFile(c.Log)
		return fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, tail(logTail, 2000))
	}
	return nil
}

// Running reports whether pg_ctl sees a live server in Dir.
func (c *Cluster) Running(ctx context.Context) bool {
	_, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "status")
	return err == nil
}

// Stop shuts the cluster down (fast mode: sessions end, data is kept).
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.Running(ctx) {
		return nil
	}
	if out, err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// CreateDatabase creates db unless it exists.
func (c *Cluster) CreateDatabase(ctx context.Context, db string) error {
	out, err := exec.CommandContext(ctx, "psql", "-h", c.psqlHost(), "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", "postgres",
		"-v", "ON_ERROR_STOP=1", "-tAc", fmt.Sprintf("SELECT 1 FROM pg_database WHERE datname = '%s'", db)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql: %v: %s", err, out)
	}
	if strings.TrimSpace(string(out)) == "1" {
		return nil
	}
	out, err = exec.CommandContext(ctx, "psql", "-h", c.psqlHost(), "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", "postgres",
		"-v", "ON_ERROR_STOP=1", "-c", fmt.Sprintf(`CREATE DATABASE "%s"`, db)).CombinedOutput()
	if err != nil {
		return fmt.Errorf("create database %s: %v: %s", db, err, out)
	}
	return nil
}

// prepareDir makes the data folder's parent exist and, as root, gives the
// postgres user a path it can reach (search permission on the ancestors only).
func (c *Cluster) prepareDir() error {
	parent := filepath.Dir(c.Dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	if c.asUser == "" {
		return nil
	}
	u, err := user.Lookup(c.asUser)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for p := parent; ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o011); err != nil {
				return fmt.Errorf("let the postgres user reach %s: %w", p, err)
			}
		}
		if p == "/" || p == "." {
			break
		}
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if err := os.Chown(c.Dir, uid, gid); err != nil {
		return err
	}
	// The log file sits beside the data folder; create it for the postgres user.
	f, err := os.OpenFile(c.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	return os.Chown(c.Log, uid, gid)
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	if c.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = "/"
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.Bytes(), err
}

func portBusy(port int) bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 300*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
