// Package tests3 starts a real S3 server for tests: versitygw
// (github.com/versity/versitygw, Apache-2.0, installed into bin/ by
// scripts/deps.sh test) with its POSIX backend in a temporary folder, on a
// free loopback port. One server serves a whole test binary: call Main from
// TestMain so it is stopped and its folder removed at the end; each test
// takes a bucket of its own (NewBucket).
//
// The binary is RADPASS_TEST_VERSITYGW, else bin/versitygw under the module
// root, else versitygw on PATH. A missing binary fails the test; only
// `go test -short` (make check) skips.
package tests3

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testkit/testtool"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/radpass/radpass/shared/storage"
)

// Credentials of the root user of every test server.
const (
	AccessKey = "radpasstestaccess"
	SecretKey = "radpasstestsecret0123456789"
	Region    = "us-east-1"
)

// Server is one running versitygw.
type Server struct {
	Endpoint string // http://127.0.0.1:<port>
	Dir      string // the POSIX backend's root: one folder per bucket

	cmd    *exec.Cmd
	exited chan error
	tmp    string
}

var (
	mu      sync.Mutex
	shared  *Server
	buckets atomic.Int64
)

// Binary finds the versitygw executable (see the package comment).
func Binary() (string, error) { return testtool.ProjectBinary("RADPASS_TEST_VERSITYGW", "versitygw") }

// Main runs the tests and then stops the server, if one was started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop ends the shared server and removes its folder.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.stop()
		shared = nil
	}
}

// Start returns the test binary's server, starting it on first use. Any
// problem fails the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs versitygw; skipped under -short")
	}
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		select {
		case err := <-shared.exited:
			tb.Fatalf("versitygw exited: %v", err)
		default:
			return shared
		}
	}
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := start(bin)
		if err == nil {
			shared = s
			return s
		}
		lastErr = err
	}
	tb.Fatalf("versitygw did not start: %v", lastErr)
	return nil
}

func start(bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "radpass-versitygw-")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(tmp, "posix")
	if err := os.Mkdir(dir, 0o700); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	s := &Server{Endpoint: "http://" + addr, Dir: dir, tmp: tmp, exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "--quiet", "--health", "/healthz", "posix", dir)
	log, err := os.Create(filepath.Join(tmp, "versitygw.log"))
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	// Killed with the test binary, even when it dies without cleaning up.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		log.Close()
		os.RemoveAll(tmp)
		return nil, err
	}
	log.Close()
	go func() { s.exited <- s.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-s.exited:
			out, _ := os.ReadFile(filepath.Join(tmp, "versitygw.log"))
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("exited (%v): %s", err, strings.TrimSpace(string(out)))
		default:
		}
		resp, err := http.Get(s.Endpoint + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("not ready after 30 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.tmp)
}

// Creds are the root user's static credentials.
func Creds() *credentials.Credentials {
	return credentials.NewStaticV4(AccessKey, SecretKey, "")
}

// NewBucket makes an empty bucket for this test and returns how to reach it.
func (s *Server) NewBucket(tb testing.TB) storage.S3Options {
	tb.Helper()
	name := fmt.Sprintf("radpass-%d-%d", os.Getpid(), buckets.Add(1))
	u := strings.TrimPrefix(s.Endpoint, "http://")
	c, err := minio.New(u, &minio.Options{Creds: Creds(), Region: Region})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: Region}); err != nil {
		tb.Fatalf("make bucket %s: %v", name, err)
	}
	return storage.S3Options{Endpoint: s.Endpoint, Bucket: name, Region: Region, Creds: Creds()}
}

// Env is the environment a radpass process needs to use the bucket of o.
func (s *Server) Env(o storage.S3Options) []string {
	return []string{"RADPASS_S3_ENDPOINT=" + o.Endpoint, "RADPASS_S3_BUCKET=" + o.Bucket,
		"RADPASS_S3_REGION=" + o.Region, "AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Age sets the last-modified time of an object of the bucket of o (the
// POSIX backend reports the file's mtime), to test grace periods without
// waiting.
func (s *Server) Age(tb testing.TB, o storage.S3Options, object string, t time.Time) {
	tb.Helper()
	if err := os.Chtimes(filepath.Join(s.Dir, o.Bucket, filepath.FromSlash(object)), t, t); err != nil {
		tb.Fatal(err)
	}
}
