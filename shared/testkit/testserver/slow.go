package testserver

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/server"
)

// SlowBuffer is the socket buffer size of NewSlowLine's connections and
// SlowHTTP's: small, so the kernel cannot swallow a whole response and hide
// a stalled write.
const SlowBuffer = 16 << 10

// SlowWriteTimeout is NewSlowLine's write timeout (120 s in production). A
// client reading as ReadSlowly does over SlowBuffer socket buffers leaves
// one server write blocked about 0.9 s (the receive window opens in steps):
// 3 s leaves a margin on a busy machine (2 s is too tight with eight test
// runs sharing two cores).
const SlowWriteTimeout = 3 * time.Second

// NewSlowLine is New with the server's write timeout set to SlowWriteTimeout
// and small send buffers on every accepted connection.
func NewSlowLine(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return start(tb, func(a *server.App, ln net.Listener) net.Listener {
		a.Fiber.Server().WriteTimeout = SlowWriteTimeout
		return smallBufferListener{ln}
	}, opts)
}

type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(SlowBuffer)
	}
	return c, err
}

// SlowHTTP is an HTTP client with jar whose connections have a small
// receive buffer, for reading a response at a chosen pace.
func SlowHTTP(tb testing.TB, jar http.CookieJar) *http.Client {
	// The buffer is set before connecting, so the window the client
	// advertises fits it from the start.
	dialer := &net.Dialer{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, SlowBuffer)
		}); err != nil {
			return err
		}
		return serr
	}}
	tr := &http.Transport{DisableCompression: true, DialContext: dialer.DialContext}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// SlowGet starts a GET of url on a SlowHTTP client and fails the test unless
// it answers 200; the caller reads (and closes) the body.
func SlowGet(tb testing.TB, url string, jar http.CookieJar) *http.Response {
	tb.Helper()
	res, err := SlowHTTP(tb, jar).Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		tb.Fatalf("GET %s answered %d", url, res.StatusCode)
	}
	return res
}

// GetSlow is SlowGet of path with the client's cookies.
func (c *Client) GetSlow(path string) *http.Response {
	c.tb.Helper()
	return SlowGet(c.tb, c.srv.URL+path, c.Jar)
}

// ReadSlowly reads r as a slow phone line would: 8 kB every 300 ms for two
// write timeouts, then the rest at once. It returns what arrived and the
// error that ended it (nil at EOF), and fails the test when the body ended
// before the write timeout had passed twice: that tested nothing.
func ReadSlowly(tb testing.TB, r io.Reader) ([]byte, error) {
	tb.Helper()
	var buf bytes.Buffer
	start := time.Now()
	for time.Since(start) < 2*SlowWriteTimeout {
		n, err := io.CopyN(&buf, r, 8<<10)
		if err == io.EOF && n >= 0 {
			tb.Fatalf("the body (%d bytes) ended after %s, before the slow read was over: nothing was tested", buf.Len(), time.Since(start))
		}
		if err != nil {
			return buf.Bytes(), err
		}
		time.Sleep(300 * time.Millisecond)
	}
	_, err := io.Copy(&buf, r)
	return buf.Bytes(), err
}

// ReadAfterStall reads nothing for two write timeouts, then all of r: a
// server that gave up on the stalled client leaves the body cut short (err
// non-nil).
func ReadAfterStall(r io.Reader) ([]byte, error) {
	time.Sleep(2 * SlowWriteTimeout)
	return io.ReadAll(r)
}
