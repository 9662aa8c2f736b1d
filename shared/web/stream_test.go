package web_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/web"
)

// streamApp serves 4 MB of deterministic bytes at /reader (web.SendStream)
// and /writer (web.SendStreamWriter), both bounded as a whole by max, with
// testserver's slow-line write timeout and small send buffers.
func streamApp(t *testing.T, max time.Duration) (string, []byte) {
	t.Helper()
	body := make([]byte, 4<<20)
	for i := range body {
		body[i] = byte(i * 7 % 251)
	}
	app := fiber.New(fiber.Config{WriteTimeout: testserver.SlowWriteTimeout})
	app.Get("/reader", func(c fiber.Ctx) error {
		return web.SendStream(c, bytes.NewReader(body), len(body), max)
	})
	app.Get("/writer", func(c fiber.Ctx) error {
		return web.SendStreamWriter(c, max, func(ctx context.Context, w io.Writer) error {
			for i := 0; i < len(body); i += 1000 {
				if _, err := w.Write(body[i:min(i+1000, len(body))]); err != nil {
					return err
				}
			}
			return nil
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(smallSendBuffers{ln}, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return "http://" + ln.Addr().String(), body
}

type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(testserver.SlowBuffer)
	}
	return c, err
}

// A slow but steady client gets the whole body however long it takes (up to
// max); one that stops reading is cut off after the write timeout; and max
// bounds even a steady one.
func TestStreamDeadlines(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/reader", "/writer"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			t.Run("slow arrives whole", func(t *testing.T) {
				t.Parallel()
				url, want := streamApp(t, time.Hour)
				res := testserver.SlowGet(t, url+path, nil)
				defer res.Body.Close()
				got, err := testserver.ReadSlowly(t, res.Body)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("got %d of %d bytes (same %v): %v", len(got), len(want), bytes.Equal(got, want), err)
				}
			})
			t.Run("stalled is cut off", func(t *testing.T) {
				t.Parallel()
				url, want := streamApp(t, time.Hour)
				res := testserver.SlowGet(t, url+path, nil)
				defer res.Body.Close()
				got, err := testserver.ReadAfterStall(res.Body)
				if err == nil {
					t.Fatalf("a stalled client got all %d of %d bytes", len(got), len(want))
				}
			})
			t.Run("max bounds the whole", func(t *testing.T) {
				t.Parallel()
				// ReadSlowly reads slowly for two write timeouts: max ends
				// the body during that, after one and a half.
				url, want := streamApp(t, testserver.SlowWriteTimeout*3/2)
				res := testserver.SlowGet(t, url+path, nil)
				defer res.Body.Close()
				got, err := testserver.ReadSlowly(t, res.Body)
				if err == nil {
					t.Fatalf("max did not end a %d-byte body (got %d)", len(want), len(got))
				}
			})
		})
	}
}

// One large write (the DICOM writer hands over a de-identified file's pixel
// data in one piece) returns only once the client has taken nearly all of
// it: nothing queues a copy of the file behind a slow client. Before, 100
// parallel anonymized downloads of a 7.5 MB X-ray peaked at 489 MB.
func TestStreamWriterWritesWaitForTheClient(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	var received atomic.Int64
	returned := make(chan int64, 1)
	app := fiber.New(fiber.Config{WriteTimeout: testserver.SlowWriteTimeout})
	app.Get("/one-write", func(c fiber.Ctx) error {
		return web.SendStreamWriter(c, time.Minute, func(ctx context.Context, w io.Writer) error {
			_, err := w.Write(body)
			returned <- received.Load()
			return err
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(smallSendBuffers{ln}, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	res := testserver.SlowGet(t, "http://"+ln.Addr().String()+"/one-write", nil)
	defer res.Body.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := res.Body.Read(buf)
		received.Add(int64(n))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond) // a client slower than loopback
	}
	if got := received.Load(); got != int64(len(body)) {
		t.Fatalf("received %d of %d bytes", got, len(body))
	}
	// What the client had not yet read when the write returned is what sat
	// in buffers: the socket's, the server's and the HTTP client's.
	if pending := int64(len(body)) - <-returned; pending > 1<<20 {
		t.Fatalf("the write returned with %d bytes not yet read by the client: they were queued", pending)
	}
}
