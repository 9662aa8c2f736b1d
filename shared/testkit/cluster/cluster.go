// Package cluster runs several real `radpass serve` processes on one
// PostgreSQL database and one storage (an S3 bucket on the test binary's
// versitygw, or a shared folder), behind Debian's nginx on loopback
// (round-robin, the configuration of docs/nginx-radpass.conf), for the
// multi-instance tests and the scale-out benchmark. The radpass binary is
// built once per test binary. A test that needs nginx or versitygw fails
// without it; a test binary that uses S3 calls tests3.Main from TestMain.
package cluster

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/tests3"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// Options say what the instances run on.
type Options struct {
	Instances   int    // how many `radpass serve` processes (at least 1)
	DatabaseURL string // one database for all of them
	// S3: every instance stores its DICOM files and report PDFs in one new
	// bucket of the test binary's versitygw (tests3), as a deployment of
	// several instances does. The render cache stays per instance.
	S3 bool
	// StoreDir, without S3, is a shared DICOM folder (linked as dicom/ into
	// each instance's data folder); empty: each instance has its own.
	StoreDir  string
	SecretKey []byte
	// Env is added to every instance's environment, e.g. RADPASS_S3_* to put
	// the store on S3; RADPASS_S3_* and AWS_* of the test's own environment
	// are passed through too.
	Env []string
	// ExtraEnv(i) is added to instance i only (nil: nothing).
	ExtraEnv func(i int) []string
}

// Cluster is nginx plus the instances.
type Cluster struct {
	URL   string // nginx, what clients use
	Insts []*Instance
	// S3 is the instances' bucket (Options.S3) on the server S3Server.
	S3       storage.S3Options
	S3Server *tests3.Server

	tb    testing.TB
	dir   string
	opts  Options
	nginx *exec.Cmd

	nginxExited chan error
	closed      bool
}

// Instance is one `radpass serve` process (replaced by Start after a stop).
type Instance struct {
	Index   int
	Addr    string // 127.0.0.1:port, the same across restarts
	DataDir string
	LogPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds ./cmd/radpass once per test binary (unless make test has
// built it: testtool.RadpassEnv) and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		if buildPath, buildErr = testtool.BuiltRadpass(); buildPath != "" || buildErr != nil {
			return
		}
		root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			buildErr = fmt.Errorf("find the module: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "radpass-cluster-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "radpass")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/radpass")
		cmd.Dir = strings.TrimSpace(string(root))
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/radpass: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return buildPath
}

// NginxPath is Debian's nginx; the test fails when it is missing
// (scripts/deps.sh test installs it).
func NginxPath(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{"/usr/sbin/nginx", "nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	tb.Fatal("nginx is not installed (scripts/deps.sh test installs Debian's nginx)")
	return ""
}

// freePort asks the kernel for a free loopback port.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start builds the binary, starts the instances (each ready on /readyz)
// and nginx in front of them; everything stops at the test's cleanup.
func Start(tb testing.TB, o Options) *Cluster {
	tb.Helper()
	if o.Instances < 1 {
		o.Instances = 1
	}
	bin := Binary(tb)
	ngx := NginxPath(tb)
	c := &Cluster{tb: tb, dir: tb.TempDir(), opts: o}
	proxyPort := freePort(tb)
	c.URL = "http://127.0.0.1:" + strconv.Itoa(proxyPort)
	if o.S3 {
		gw := tests3.Start(tb)
		c.S3, c.S3Server = gw.NewBucket(tb), gw
		c.opts.Env = append(gw.Env(c.S3), o.Env...)
	}
	for i := 0; i < o.Instances; i++ {
		in := &Instance{Index: i, Addr: "127.0.0.1:" + strconv.Itoa(freePort(tb)),
			DataDir: filepath.Join(c.dir, fmt.Sprintf("inst%d", i)), LogPath: filepath.Join(c.dir, fmt.Sprintf("inst%d.log", i))}
		if err := os.MkdirAll(in.DataDir, 0o700); err != nil {
			tb.Fatal(err)
		}
		if o.StoreDir != "" {
			if err := os.Symlink(o.StoreDir, filepath.Join(in.DataDir, "dicom")); err != nil {
				tb.Fatal(err)
			}
		}
		c.Insts = append(c.Insts, in)
	}
	tb.Cleanup(c.stopAll)
	for _, in := range c.Insts {
		c.launch(bin, in)
	}
	for _, in := range c.Insts {
		c.WaitReady(in.Index)
	}
	c.startNginx(ngx, proxyPort)
	return c
}

func (c *Cluster) env(in *Instance) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		// The instances' settings are the kit's; only the storage choice
		// (S3) and the usual process variables come from outside.
		if strings.HasPrefix(k, "RADPASS_") && !strings.HasPrefix(k, "RADPASS_S3_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"RADPASS_ADDR="+in.Addr,
		"RADPASS_BASE_URL="+c.URL,
		"RADPASS_DATABASE_URL="+c.opts.DatabaseURL,
		"RADPASS_DATA_DIR="+in.DataDir,
		"RADPASS_SECRET_KEY="+hex.EncodeToString(c.opts.SecretKey),
		"RADPASS_TRUSTED_PROXIES=127.0.0.1",
		"RADPASS_LOG_LEVEL=info",
		"GOMAXPROCS=2",
	)
	env = append(env, c.opts.Env...)
	if c.opts.ExtraEnv != nil {
		env = append(env, c.opts.ExtraEnv(in.Index)...)
	}
	return env
}

// launch starts instance in's process (not waiting for it to be ready).
func (c *Cluster) launch(bin string, in *Instance) {
	c.tb.Helper()
	logf, err := os.OpenFile(in.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		c.tb.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = c.env(in)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		c.tb.Fatal(err)
	}
	done := make(chan struct{})
	in.mu.Lock()
	in.cmd, in.done, in.err = cmd, done, nil
	in.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		in.mu.Lock()
		in.err = err
		in.mu.Unlock()
		close(done)
	}()
}

// WaitReady waits until instance i answers /readyz with 200; it fails the
// test when the process exits first or is not ready within two minutes.
func (c *Cluster) WaitReady(i int) {
	c.tb.Helper()
	in := c.Insts[i]
	in.mu.Lock()
	done := in.done
	in.mu.Unlock()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			c.tb.Fatalf("instance %d exited before it was ready (%v):\n%s", i, in.Err(), c.LogTail(i, 40))
		default:
		}
		if res, err := hc.Get("http://" + in.Addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.tb.Fatalf("instance %d not ready after two minutes:\n%s", i, c.LogTail(i, 40))
}

// Store opens the instances' S3 bucket (Options.S3) for a test to look into.
func (c *Cluster) Store(tb testing.TB) *storage.S3 {
	tb.Helper()
	if c.S3.Bucket == "" {
		tb.Fatal("the cluster does not run on S3")
	}
	st, err := storage.NewS3(context.Background(), c.S3)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// Err is how the instance's last process ended (nil while it runs or after a clean exit).
func (in *Instance) Err() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.err
}

// Pid is the running process's id (0 when none).
func (in *Instance) Pid() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cmd == nil || in.cmd.Process == nil {
		return 0
	}
	return in.cmd.Process.Pid
}

// Done is closed when the instance's current process has exited.
func (in *Instance) Done() <-chan struct{} {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.done
}

// Signal sends sig to instance i's process.
func (c *Cluster) Signal(i int, sig syscall.Signal) {
	c.tb.Helper()
	in := c.Insts[i]
	in.mu.Lock()
	cmd := in.cmd
	in.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.tb.Fatal(err)
	}
}

// Stop sends SIGTERM to instance i and waits for it to exit (the graceful
// path); it returns the process's exit error (nil: exit status 0).
func (c *Cluster) Stop(i int) error {
	c.tb.Helper()
	c.Signal(i, syscall.SIGTERM)
	<-c.Insts[i].Done()
	return c.Insts[i].Err()
}

// Kill sends SIGKILL to instance i and waits for it to be gone.
func (c *Cluster) Kill(i int) {
	c.tb.Helper()
	c.Signal(i, syscall.SIGKILL)
	<-c.Insts[i].Done()
}

// Restart starts instance i again on its address and waits until it is ready.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	select {
	case <-c.Insts[i].Done():
	default:
		c.tb.Fatalf("instance %d still runs", i)
	}
	c.launch(Binary(c.tb), c.Insts[i])
	c.WaitReady(i)
}

// LogTail is the last n lines of instance i's output (all its runs).
func (c *Cluster) LogTail(i, n int) string {
	b, _ := os.ReadFile(c.Insts[i].LogPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Requests counts the access-log lines of instance i (all its runs) whose
// method and path match, e.g. Requests(0, "POST", "/staff/print").
func (c *Cluster) Requests(i int, method, path string) int {
	b, _ := os.ReadFile(c.Insts[i].LogPath)
	re := regexp.MustCompile(`"method":"` + regexp.QuoteMeta(method) + `","path":"` + regexp.QuoteMeta(path) + `"`)
	return len(re.FindAll(b, -1))
}

// Answered counts the requests instance i logged (all its runs) with the
// HTTP status st.
func (c *Cluster) Answered(i, st int) int {
	b, _ := os.ReadFile(c.Insts[i].LogPath)
	re := regexp.MustCompile(`"msg":"request".*"status":` + strconv.Itoa(st) + `[,}]`)
	return len(re.FindAll(b, -1))
}

// Served counts the requests instance i logged (all its runs), health
// checks (/readyz, /healthz) left out.
func (c *Cluster) Served(i int) int {
	b, _ := os.ReadFile(c.Insts[i].LogPath)
	return bytes.Count(b, []byte(`"msg":"request"`)) - bytes.Count(b, []byte(`"path":"/readyz"`)) - bytes.Count(b, []byte(`"path":"/healthz"`))
}

// WaitServing waits until instance i has served n more requests than
// before (through the proxy: it is back in the rotation).
func (c *Cluster) WaitServing(i, before, n int) {
	for c.Served(i) < before+n {
		time.Sleep(20 * time.Millisecond)
	}
}

// upstreamRe and listenRe find the lines of docs/nginx-radpass.conf that the
// kit replaces with its own ports.
var (
	upstreamRe = regexp.MustCompile(`(?m)^\s*server 127\.0\.0\.1:\d+ ([^;]*);\n`)
	listenRe   = regexp.MustCompile(`(?m)^(\s*)listen [^;]+;`)
)

// NginxConfig is docs/nginx-radpass.conf with the given instance addresses
// and listen port.
func NginxConfig(tb testing.TB, addrs []string, port int) string {
	tb.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(root)), "docs", "nginx-radpass.conf"))
	if err != nil {
		tb.Fatal(err)
	}
	conf := string(b)
	m := upstreamRe.FindAllStringSubmatch(conf, -1)
	if len(m) == 0 || !listenRe.MatchString(conf) {
		tb.Fatal("docs/nginx-radpass.conf has no upstream server lines or no listen line")
	}
	var servers strings.Builder
	for _, a := range addrs {
		fmt.Fprintf(&servers, "    server %s %s;\n", a, m[0][1])
	}
	first := true
	conf = upstreamRe.ReplaceAllStringFunc(conf, func(string) string {
		if first {
			first = false
			return servers.String()
		}
		return ""
	})
	return listenRe.ReplaceAllString(conf, "${1}listen 127.0.0.1:"+strconv.Itoa(port)+";")
}

func (c *Cluster) startNginx(bin string, port int) {
	c.tb.Helper()
	dir := filepath.Join(c.dir, "nginx")
	for _, d := range []string{"", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			c.tb.Fatal(err)
		}
	}
	var addrs []string
	for _, in := range c.Insts {
		addrs = append(addrs, in.Addr)
	}
	if err := os.WriteFile(filepath.Join(dir, "radpass.conf"), []byte(NginxConfig(c.tb, addrs, port)), 0o644); err != nil {
		c.tb.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // the workers write the test's temporary folders
	}
	tmp := filepath.Join(dir, "tmp")
	main := fmt.Sprintf(`%sdaemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[3]s/body;
    proxy_temp_path %[3]s/proxy;
    fastcgi_temp_path %[3]s/fastcgi;
    uwsgi_temp_path %[3]s/uwsgi;
    scgi_temp_path %[3]s/scgi;
    include %[2]s/radpass.conf;
}
`, user, dir, tmp)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		c.tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.tb.Fatal(err)
	}
	c.nginx = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	hc := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-exited:
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			c.tb.Fatalf("nginx exited (%v): %s\n%s", err, out.String(), errLog)
		default:
		}
		if res, err := hc.Get(c.URL + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				c.nginxExited = exited
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.tb.Fatal("nginx did not answer within 30 s")
}

// Close stops nginx and the instances now (Start also does at cleanup).
func (c *Cluster) Close() { c.stopAll() }

// stopAll ends nginx and every instance (SIGKILL: the tests that care about
// a graceful end stop instances themselves).
func (c *Cluster) stopAll() {
	if c.closed {
		return
	}
	c.closed = true
	if c.nginx != nil && c.nginx.Process != nil {
		_ = c.nginx.Process.Signal(syscall.SIGQUIT)
		select {
		case <-c.nginxExited:
		case <-time.After(5 * time.Second):
			_ = c.nginx.Process.Kill()
			<-c.nginxExited
		}
	}
	for _, in := range c.Insts {
		in.mu.Lock()
		cmd, done := in.cmd, in.done
		in.mu.Unlock()
		if cmd == nil {
			continue
		}
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	}
	if c.tb.Failed() {
		for i := range c.Insts {
			c.tb.Logf("instance %d, last lines:\n%s", i, c.LogTail(i, 15))
		}
		if b, err := os.ReadFile(filepath.Join(c.dir, "nginx", "error.log")); err == nil {
			lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
			if len(lines) > 30 {
				lines = lines[len(lines)-30:]
			}
			c.tb.Logf("nginx error.log, last lines:\n%s", strings.Join(lines, "\n"))
		}
	}
}

// CPUSeconds is the user plus system CPU time the running instances have
// used so far (/proc/<pid>/stat), and nginx's.
func (c *Cluster) CPUSeconds() (instances, nginx float64) {
	for _, in := range c.Insts {
		instances += procCPU(in.Pid())
	}
	if c.nginx != nil && c.nginx.Process != nil {
		nginx = procCPU(c.nginx.Process.Pid)
		// The worker does the proxying: add the master's children.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.nginx.Process.Pid, c.nginx.Process.Pid)); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					nginx += procCPU(pid)
				}
			}
		}
	}
	return instances, nginx
}

// PostgresCPUSeconds is the CPU time of the PostgreSQL server whose
// postmaster has pid: its own, its finished children's (cutime, cstime)
// and its running children's (the backends). It is the whole server's, not
// one database's.
func PostgresCPUSeconds(pid int) float64 {
	total := procCPU(pid) + procChildrenCPU(pid)
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil {
				total += procCPU(p)
			}
		}
	}
	return total
}

// procChildrenCPU is cutime + cstime of pid: its waited-for children's CPU.
func procChildrenCPU(pid int) float64 {
	f := procFields(pid)
	if len(f) < 15 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[13], 64)
	st, _ := strconv.ParseFloat(f[14], 64)
	return (ut + st) / clockTicks
}

// procFields are the fields of /proc/<pid>/stat after the command name
// (which may hold spaces) in parentheses: f[0] is the state.
func procFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 <= len(s) {
		s = s[i+2:]
	}
	return strings.Fields(s)
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

func procCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	f := procFields(pid)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / clockTicks
}
