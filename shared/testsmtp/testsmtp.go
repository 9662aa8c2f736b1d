// Package testsmtp starts a real SMTP server for tests: Mailpit
// (github.com/axllent/mailpit, installed into bin/ by scripts/deps.sh test),
// on free loopback ports, stopped at the test's cleanup. Received messages are
// read back through Mailpit's HTTP API.
//
// The binary is RADPASS_TEST_MAILPIT, else bin/mailpit under the module root,
// else mailpit on PATH. A missing binary fails the test: it never skips.
package testsmtp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is one running Mailpit.
type Server struct {
	Host    string // 127.0.0.1
	Port    int    // SMTP port (plain; AUTH PLAIN/LOGIN accepted without TLS)
	APIBase string // http://127.0.0.1:<port>

	cmd *exec.Cmd
}

// Address is an e-mail address as Mailpit reports it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Message is one received message with its decoded parts.
type Message struct {
	ID      string    `json:"ID"`
	From    *Address  `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Text    string    `json:"Text"` // the text/plain part, decoded
	HTML    string    `json:"HTML"` // the text/html part, decoded
	// Username is the SMTP AUTH user the client signed in with ("" without AUTH).
	Username string `json:"Username"`
}

// Binary finds the Mailpit executable (see the package comment).
func Binary() (string, error) {
	if p := os.Getenv("RADPASS_TEST_MAILPIT"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("RADPASS_TEST_MAILPIT=%s: %w", p, err)
		}
		return p, nil
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("mailpit")
	if err != nil {
		return "", errors.New("no Mailpit: set RADPASS_TEST_MAILPIT, or run scripts/deps.sh test (installs bin/mailpit)")
	}
	return p, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start runs a Mailpit for this test and stops it at cleanup. Any problem
// fails the test.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	// Free ports are chosen by the kernel and released just before Mailpit
	// binds them; another process can take one in between, so retry.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := start(tb, bin)
		if err == nil {
			return s
		}
		lastErr = err
	}
	tb.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

func start(tb testing.TB, bin string) (*Server, error) {
	smtpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := tb.TempDir()
	s := &Server{Host: "127.0.0.1", Port: smtpPort, APIBase: "http://127.0.0.1:" + strconv.Itoa(httpPort)}
	s.cmd = exec.Command(bin,
		"--smtp", net.JoinHostPort(s.Host, strconv.Itoa(smtpPort)),
		"--listen", net.JoinHostPort(s.Host, strconv.Itoa(httpPort)),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp-disable-rdns", "--disable-version-check", "--quiet",
	)
	var out syncBuffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	stop := func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-exited
		}
	}
	// Wait until both the HTTP API is ready and the SMTP port accepts.
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("mailpit exited (%v): %s", err, out.String())
		default:
		}
		if s.ready() {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("mailpit not ready after 30 s: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Cleanup(stop)
	return s, nil
}

func (s *Server) ready() bool {
	res, err := http.Get(s.APIBase + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Messages returns every received message, newest first, with its parts.
func (s *Server) Messages(tb testing.TB) []Message {
	tb.Helper()
	var list struct {
		Messages []struct {
			ID string `json:"ID"`
		} `json:"messages"`
	}
	s.getJSON(tb, "/api/v1/messages?limit=1000", &list)
	out := make([]Message, 0, len(list.Messages))
	for _, m := range list.Messages {
		var full Message
		s.getJSON(tb, "/api/v1/message/"+m.ID, &full)
		out = append(out, full)
	}
	return out
}

// To returns the messages received for addr (case-insensitive), newest first.
func (s *Server) To(tb testing.TB, addr string) []Message {
	tb.Helper()
	var out []Message
	for _, m := range s.Messages(tb) {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Raw returns the message as received (headers and MIME body).
func (s *Server) Raw(tb testing.TB, id string) string {
	tb.Helper()
	return string(s.get(tb, "/api/v1/message/"+id+"/raw"))
}

func (s *Server) getJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	if err := json.Unmarshal(s.get(tb, path), v); err != nil {
		tb.Fatalf("mailpit %s: %v", path, err)
	}
}

func (s *Server) get(tb testing.TB, path string) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.APIBase+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("mailpit %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		tb.Fatalf("mailpit %s: %d %v %s", path, res.StatusCode, err, b)
	}
	return b
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() < 64<<10 {
		w.b.Write(p)
	}
	return len(p), nil
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
