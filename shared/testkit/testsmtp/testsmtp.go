// Package testsmtp starts a real SMTP server for tests: Mailpit
// (github.com/axllent/mailpit, installed into bin/ by scripts/deps.sh test),
// on free loopback ports, stopped at the test's cleanup. Received messages are
// read back through Mailpit's HTTP API.
//
// The binary is RADPASS_TEST_MAILPIT, else bin/mailpit under the module root,
// else mailpit on PATH. A missing binary fails the test; only `go test -short` (make check) skips.
package testsmtp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
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

	"github.com/radpass/radpass/shared/testkit/testtool"
)

// Server is one running Mailpit.
type Server struct {
	Host    string // 127.0.0.1
	Port    int    // SMTP port (plain; AUTH PLAIN/LOGIN accepted without TLS)
	APIBase string // http://127.0.0.1:<port>
	// RootCAs trusts the server's self-signed certificate (TLS modes only).
	RootCAs *x509.CertPool

	cmd *exec.Cmd
}

// Option changes how the server is started.
type Option func(*options)

type options struct{ tls, user, password string }

// WithAuth makes the server require SMTP AUTH with this user and password
// (plain text in its password file); without it, any AUTH is accepted and
// none is required.
func WithAuth(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// WithSTARTTLS makes the server offer and require STARTTLS, with a
// self-signed certificate for 127.0.0.1 that Server.RootCAs trusts.
func WithSTARTTLS() Option { return func(o *options) { o.tls = "starttls" } }

// WithImplicitTLS makes the server speak TLS from the first byte (SMTPS).
func WithImplicitTLS() Option { return func(o *options) { o.tls = "tls" } }

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
}

// Binary finds the Mailpit executable (see the package comment).
func Binary() (string, error) { return testtool.ProjectBinary("RADPASS_TEST_MAILPIT", "mailpit") }

// Start runs a Mailpit for this test and stops it at cleanup. Any problem
// fails the test.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	if testing.Short() {
		tb.Skip("needs Mailpit; skipped under -short")
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	bin, err := Binary()
	if err != nil {
		tb.Fatal(err)
	}
	// Free ports are chosen by the kernel and released just before Mailpit
	// binds them; another process can take one in between, so retry.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := start(tb, bin, o)
		if err == nil {
			return s
		}
		lastErr = err
	}
	tb.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

func start(tb testing.TB, bin string, o options) (*Server, error) {
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
	args := []string{
		"--smtp", net.JoinHostPort(s.Host, strconv.Itoa(smtpPort)),
		"--listen", net.JoinHostPort(s.Host, strconv.Itoa(httpPort)),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-disable-rdns", "--disable-version-check", "--quiet",
	}
	if o.user != "" {
		f := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(f, []byte(o.user+":"+o.password+"\n"), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "--smtp-auth-file", f)
	} else {
		args = append(args, "--smtp-auth-accept-any")
	}
	if o.tls == "" {
		args = append(args, "--smtp-auth-allow-insecure")
	} else {
		certFile, keyFile, pool, err := selfSigned(dir, s.Host)
		if err != nil {
			return nil, err
		}
		s.RootCAs = pool
		args = append(args, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile)
		if o.tls == "starttls" {
			args = append(args, "--smtp-require-starttls")
		} else {
			args = append(args, "--smtp-require-tls")
		}
	}
	s.cmd = exec.Command(bin, args...)
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

// selfSigned writes a certificate and key for host into dir and returns a
// pool that trusts it.
func selfSigned(dir, host string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP(host)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "smtp.crt"), filepath.Join(dir, "smtp.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool, nil
}
