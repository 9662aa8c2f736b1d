package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/localpg"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/tests3"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

var binary string

// TestMain builds the real radpass binary once (or takes make test's,
// testtool.RadpassEnv): exit codes and stderr are
// checked on the process, as an operator sees them.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "radpass-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary, err = testtool.BuiltRadpass()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary == "" {
		binary = filepath.Join(dir, "radpass")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build radpass: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	tests3.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// radpass runs the binary with exactly env (no inherited RADPASS_ variables).
func radpass(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

var strongKey = strings.Repeat("5e", 32)

// A bad or missing setting is one line naming the variable, exit code 2.
func TestConfigErrorsExitTwo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantVar string
	}{
		{"bad boolean", map[string]string{"RADPASS_DEV": "maybe"}, []string{"serve"}, "RADPASS_DEV"},
		{"bad port", map[string]string{"RADPASS_DEV": "1", "RADPASS_PG_PORT": "99999"}, []string{"serve"}, "RADPASS_PG_PORT"},
		{"bad base url", map[string]string{"RADPASS_DEV": "1", "RADPASS_BASE_URL": "localhost"}, []string{"migrate", "status"}, "RADPASS_BASE_URL"},
		{"bad duration", map[string]string{"RADPASS_DEV": "1", "RADPASS_SESSION_IDLE": "0"}, []string{"serve"}, "RADPASS_SESSION_IDLE"},
		{"no secret outside dev", map[string]string{"RADPASS_DATABASE_URL": "postgres://x@127.0.0.1:1/x"}, []string{"serve"}, "RADPASS_SECRET_KEY"},
		{"weak secret outside dev", map[string]string{"RADPASS_DATABASE_URL": "postgres://x@127.0.0.1:1/x", "RADPASS_SECRET_KEY": "deadbeef"}, []string{"serve"}, "RADPASS_SECRET_KEY"},
		{"no database outside dev", map[string]string{"RADPASS_SECRET_KEY": strongKey}, []string{"serve"}, "RADPASS_DATABASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := radpass(t, tt.env, "", tt.args...)
			if r.code != 2 {
				t.Fatalf("exit code %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			if strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") != 0 {
				t.Fatalf("stderr is not one line: %q", r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "radpass: "+tt.wantVar+":") {
				t.Fatalf("stderr %q does not name %s", r.stderr, tt.wantVar)
			}
		})
	}
}

func TestUsageAndVersion(t *testing.T) {
	t.Parallel()
	if r := radpass(t, nil, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "radpass ") {
		t.Fatalf("version: %d %q", r.code, r.stdout)
	}
	if r := radpass(t, nil, ""); r.code != 2 || !strings.Contains(r.stdout, "usage:") {
		t.Fatalf("no command: %d %q", r.code, r.stdout)
	}
	if r := radpass(t, map[string]string{"RADPASS_DEV": "1"}, "", "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("unknown command: %d %q", r.code, r.stderr)
	}
	if r := radpass(t, map[string]string{"RADPASS_DEV": "1"}, "", "migrate", "sideways"); r.code != 2 {
		t.Fatalf("bad migrate argument: %d %q", r.code, r.stderr)
	}
}

// Outside dev mode demo data is refused before any database is touched.
func TestSeedRefusedOutsideDev(t *testing.T) {
	t.Parallel()
	_, dsn := testdb.NewWithURL(t)
	r := radpass(t, map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey}, "", "seed")
	if r.code != 2 || !strings.Contains(r.stderr, "refused outside dev mode") {
		t.Fatalf("seed outside dev: %d %q", r.code, r.stderr)
	}
}

func TestUserAdd(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	d := testserver.MustDepartment(t, db, "NORTH")
	env := map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey}
	const pw = "a-long-enough-password"

	r := radpass(t, env, pw+"\n", "user", "add", "-username", " Nora ", "-role", "admin", "-department", d.Code, "-name", "Nora Noord", "-language", "nl")
	if r.code != 0 || !strings.Contains(r.stdout, "user nora created") {
		t.Fatalf("user add: %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	u := new(database.User)
	if err := db.NewSelect().Model(u).Where("username = 'nora'").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if u.Role != database.RoleAdmin || u.DepartmentID == nil || *u.DepartmentID != d.ID || u.Language != "nl" || u.DisplayName != "Nora Noord" {
		t.Fatalf("stored user %+v", u)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || !auth.CheckPassword(pw, u.PasswordHash) {
		t.Fatalf("password hash %q does not check", u.PasswordHash)
	}
	n, err := db.NewSelect().Table("audit_events").Where("action = ?", audit.UserCreated).Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("%d audit rows (%v)", n, err)
	}
	// The service desk belongs to no department.
	if r := radpass(t, env, pw+"\n", "user", "add", "-username", "desk", "-role", "servicedesk"); r.code != 0 {
		t.Fatalf("servicedesk: %d %q", r.code, r.stderr)
	}

	bad := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"duplicate username", pw + "\n", []string{"-username", "NORA", "-role", "staff", "-department", d.Code}, 1, "taken"},
		{"short password", "short\n", []string{"-username", "sam", "-role", "staff", "-department", d.Code}, 2, "at least"},
		{"no password", "", []string{"-username", "sam", "-role", "staff", "-department", d.Code}, 2, "at least"},
		{"bad role", pw + "\n", []string{"-username", "sam", "-role", "boss", "-department", d.Code}, 2, "-role"},
		{"bad username", pw + "\n", []string{"-username", "sam smith!", "-role", "staff", "-department", d.Code}, 2, "-username"},
		{"missing username", pw + "\n", []string{"-role", "staff", "-department", d.Code}, 2, "-username"},
		{"staff without department", pw + "\n", []string{"-username", "sam", "-role", "staff"}, 2, "-department"},
		{"servicedesk with department", pw + "\n", []string{"-username", "sam", "-role", "servicedesk", "-department", d.Code}, 2, "no department"},
		{"unknown department", pw + "\n", []string{"-username", "sam", "-role", "staff", "-department", "SOUTH"}, 2, "SOUTH"},
		{"bad language", pw + "\n", []string{"-username", "sam", "-role", "staff", "-department", d.Code, "-language", "es"}, 2, "-language"},
		{"unknown flag", pw + "\n", []string{"-username", "sam", "-colour", "red"}, 2, "colour"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := radpass(t, env, tt.stdin, append([]string{"user", "add"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "violates") || strings.Contains(r.stderr, "SQLSTATE") {
				t.Fatalf("a database error reached the operator: %q", r.stderr)
			}
		})
	}
	n, err = db.NewSelect().Table("users").Count(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("%d users after the refused adds, want 2 (%v)", n, err)
	}
}

func TestMigrateStatusDownUp(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	env := map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey}
	tableExists := func() bool {
		var ok bool
		if err := db.NewRaw(`SELECT to_regclass('public.audit_events') IS NOT NULL`).Scan(context.Background(), &ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}

	r := radpass(t, env, "", "migrate", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "applied") || strings.Contains(r.stdout, "pending") {
		t.Fatalf("status on a migrated database: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "20261127000001") {
		t.Fatalf("status does not list the foundation migration:\n%s", r.stdout)
	}
	if r := radpass(t, env, "", "migrate", "up"); r.code != 0 || !strings.Contains(r.stdout, "up to date") {
		t.Fatalf("up on a migrated database: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := radpass(t, env, "", "migrate", "down"); r.code != 0 || !strings.Contains(r.stdout, "rolled back") {
		t.Fatalf("down: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = radpass(t, env, "", "migrate", "status")
	if !strings.Contains(r.stdout, "pending") {
		t.Fatalf("nothing pending after down:\n%s", r.stdout)
	}
	// Roll back every group, then apply everything again.
	for i := 0; i < 20 && tableExists(); i++ {
		if r := radpass(t, env, "", "migrate", "down"); r.code != 0 {
			t.Fatalf("down: %d %q", r.code, r.stderr)
		}
	}
	if tableExists() {
		t.Fatal("the foundation tables survived rolling everything back")
	}
	if r := radpass(t, env, "", "migrate", "up"); r.code != 0 || !strings.Contains(r.stdout, "migrated to") {
		t.Fatalf("up: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if !tableExists() {
		t.Fatal("migrate up did not recreate the tables")
	}
	r = radpass(t, env, "", "migrate", "status")
	if strings.Contains(r.stdout, "pending") {
		t.Fatalf("still pending after up:\n%s", r.stdout)
	}
}

// run() itself refuses a missing command with the usage text.
func TestRunWithoutArguments(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), nil, strings.NewReader(""), &out, func(string) string { return "" })
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(out.String(), "migrate up|down|status") {
		t.Fatalf("run(): %v, output %q", err, out.String())
	}
}

// The serve loop's housekeeping removes expired sessions and stops with ctx.
func TestPurgeSessions(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	data := t.TempDir() // dev mode keeps its generated key there
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "RADPASS_DEV":
			return "1"
		case "RADPASS_DATA_DIR":
			return data
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
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = db.ExecContext(ctx, `INSERT INTO sessions (id_hash, kind, data, last_seen_at, expires_at) VALUES
		('\x01', 'staff', '', now(), now() - interval '1 minute'),          -- past the absolute limit
		('\x02', 'staff', '', now() - interval '2 hours', now() + interval '1 hour'), -- idle
		('\x03', 'patient', '', now(), now() - interval '1 minute'),        -- another kind, expired
		('\x04', 'staff', '', now(), now() + interval '1 hour')`) // alive
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO throttle (key, failures, window_start) VALUES ('staff:gone', 1, now() - interval '1 day')`); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		housekeeping(ctx, a, slog.New(slog.NewTextHandler(io.Discard, nil)), 20*time.Millisecond)
		close(done)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var left []int
		if err := db.NewRaw(`SELECT get_byte(id_hash, 0) FROM sessions ORDER BY 1`).Scan(ctx, &left); err != nil {
			t.Fatal(err)
		}
		var counters int
		if err := db.NewRaw(`SELECT count(*) FROM throttle`).Scan(ctx, &counters); err != nil {
			t.Fatal(err)
		}
		if len(left) == 1 && left[0] == 4 && counters == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions left: %v, want only the live one; throttle rows %d", left, counters)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("purge loop did not stop with its context")
	}
}

func freeAddr(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
}

// served is a running `radpass serve`: its output and its exit.
type served struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{} // closed when the process has ended; err is then set
	err    error
}

// serveUntilReady starts `radpass serve`, waits for /readyz, and returns the
// process. A process that ends before it is ready fails the test at once,
// with what it printed.
func serveUntilReady(t *testing.T, env map[string]string, addr string) *served {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = t.TempDir()
	s := &served{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-s.exited })
	// A first dev run generates and imports the demo's ~2,500 images
	// before it listens: minutes on a loaded machine.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("serve ended before it was ready (%v):\n%s", s.err, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready:\n%s", s.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop sends SIGTERM and expects a clean exit with the shutdown message.
func stop(t *testing.T, s *served) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
		if s.err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", s.err, s.out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", s.out.String())
	}
	if !strings.Contains(s.out.String(), "shutting down") {
		t.Fatalf("no shutdown message:\n%s", s.out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// What `make run` does: dev mode without a database URL creates and starts a
// project-local PostgreSQL, seeds the demo data once, serves, and on SIGTERM
// stops both. A second run reuses the data. The demo is 10 patients, not
// make run's 200: the test proves the first-run path, not the demo's size
// (shared/seed's TestDemoTellsTheTruth checks the demo's content).
func TestServeDevModeWithLocalPostgres(t *testing.T) {
	t.Parallel()
	// Not t.TempDir(): the test's name in the path would leave too little
	// room under a long TMPDIR for the socket kept inside the data folder.
	dir, err := os.MkdirTemp("", "rp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, ".data")
	_, pgPort := freeAddr(t)
	addr, _ := freeAddr(t)
	env := map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": data, "RADPASS_PG_PORT": fmt.Sprint(pgPort), "RADPASS_ADDR": addr, "RADPASS_DEMO_PATIENTS": "10"}
	cl, err := localpg.New(filepath.Join(data, "pg"), pgPort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Stop(context.Background()) })

	srv := serveUntilReady(t, env, addr)
	if out := srv.out.String(); !strings.Contains(out, "first run: writing demo data") || !strings.Contains(out, "north.staff") {
		t.Fatalf("first run output:\n%s", out)
	}
	if res, err := http.Get("http://" + addr + "/staff/signin"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: %v %v", res, err)
	}
	// The dev cluster is reachable through its private socket only, and the
	// dev key was made for this data folder.
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", pgPort), time.Second); err == nil {
		c.Close()
		t.Fatalf("the dev PostgreSQL listens on TCP port %d", pgPort)
	}
	if fi, err := os.Stat(filepath.Join(data, config.DevKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev key file: %v %v", fi, err)
	}
	stop(t, srv)
	if cl.Running(context.Background()) {
		t.Fatal("the local PostgreSQL still runs after SIGTERM")
	}

	srv = serveUntilReady(t, env, addr)
	if strings.Contains(srv.out.String(), "first run") {
		t.Fatalf("second run seeded again:\n%s", srv.out.String())
	}
	stop(t, srv)
	if cl.Running(context.Background()) {
		t.Fatal("the local PostgreSQL still runs after the second SIGTERM")
	}
}

// Against an external PostgreSQL, serve starts no cluster and refuses demo data.
func TestServeExternalDatabase(t *testing.T) {
	t.Parallel()
	db, dsn := testdb.NewWithURL(t)
	addr, _ := freeAddr(t)
	env := map[string]string{"RADPASS_DATABASE_URL": dsn, "RADPASS_SECRET_KEY": strongKey, "RADPASS_ADDR": addr}
	srv := serveUntilReady(t, env, addr)
	n, err := db.NewSelect().Table("departments").Count(context.Background())
	if err != nil || n != 0 {
		t.Fatalf("%d departments outside dev mode (%v): no demo data allowed", n, err)
	}
	if strings.Contains(srv.out.String(), "starting the project-local PostgreSQL") {
		t.Fatalf("started a local cluster although a URL was given:\n%s", srv.out.String())
	}
	stop(t, srv)
}

// Arguments are checked before the configuration is read or a database
// started, and `--help` of every command prints its usage and exits 0 with
// no configuration at all.
func TestHelpAndArgumentsBeforeConfig(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "migrate", "seed", "user", "import", "token", "report", "localpg"} {
		for _, flag := range []string{"--help", "-h"} {
			args := []string{cmd, flag}
			if cmd == "user" || cmd == "report" || cmd == "token" {
				args = []string{cmd, "add", flag}
			}
			r := radpass(t, nil, "", args...)
			if r.code != 0 || !strings.Contains(r.stdout, "usage: radpass "+cmd) || r.stderr != "" {
				t.Errorf("radpass %s: exit %d, stdout %q, stderr %q; want the usage and 0", strings.Join(args, " "), r.code, r.stdout, r.stderr)
			}
		}
	}
	// A wrong argument is refused before anything is started or written.
	dataDir := t.TempDir()
	dev := map[string]string{"RADPASS_DEV": "1", "RADPASS_DATA_DIR": dataDir, "RADPASS_PG_PORT": "1"}
	for _, args := range [][]string{
		{"migrate", "sideways"},
		{"migrate"},
		{"import"},
		{"import", "--department", "X"},
		{"token", "frobnicate"},
		{"token", "revoke", "abc"},
		{"token", "add"},
		{"report", "add", "--department", "X"},
		{"serve", "extra"},
		{"seed", "extra"},
		{"user", "add"},
	} {
		r := radpass(t, dev, "", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "usage") && !strings.Contains(r.stderr, "must") && !strings.Contains(r.stderr, "required") {
			t.Errorf("radpass %s: exit %d, stderr %q; want a usage error", strings.Join(args, " "), r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "PostgreSQL") || strings.Contains(r.stderr, "RADPASS_") {
			t.Errorf("radpass %s went past its arguments: %q %q", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Fatalf("refused commands wrote to the data folder: %v", entries)
	}
	// Without any configuration, a bad argument is still a usage error.
	if r := radpass(t, nil, "", "import"); r.code != 2 || strings.Contains(r.stderr, "RADPASS_SECRET_KEY") {
		t.Fatalf("import without arguments or configuration: %d %q", r.code, r.stderr)
	}
}
