package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/gofiber/fiber/v3"
)

// DownloadMax bounds one streamed download as a whole: a phone on a slow
// line may need long, but a client that trickles forever must not hold a
// file (or a database query) open forever.
const DownloadMax = 30 * time.Minute

// The server's write timeout is one deadline for the whole response under
// fasthttp (set once, after the handler returns): any streamed body slower in
// all than that (7.5 MB on a 50 kB/s line: 150 s > 120 s) was cut off, the
// client left with a truncated file. SendStream and SendStreamWriter turn it
// into a bound on each stretch without progress: every time the body moves
// on, the connection's write deadline is moved the write timeout ahead (at
// most a few times per timeout), never past max after the handler. A slow but
// steady client gets the whole body; one that stops reading is still cut off
// after the write timeout, and any client after max.

// streamDeadline moves one connection's write deadline on progress.
type streamDeadline struct {
	conn  net.Conn
	idle  time.Duration // the server's write timeout (0: none)
	until time.Time     // the whole-response bound (zero: none)
	moved time.Time     // when the deadline was last moved
}

func newStreamDeadline(c fiber.Ctx, max time.Duration) *streamDeadline {
	d := &streamDeadline{conn: c.RequestCtx().Conn(), idle: c.App().Server().WriteTimeout}
	if max > 0 {
		d.until = time.Now().Add(max)
	}
	return d
}

// progress is called whenever the body moved on; the deadline goes
// idle ahead when it was last moved more than idle/8 ago.
func (d *streamDeadline) progress() {
	if d.conn == nil || (d.idle <= 0 && d.until.IsZero()) {
		return
	}
	now := time.Now()
	if !d.moved.IsZero() && (d.idle <= 0 || now.Sub(d.moved) <= d.idle/8) {
		return
	}
	var dl time.Time
	if d.idle > 0 {
		dl = now.Add(d.idle)
	}
	if !d.until.IsZero() && (dl.IsZero() || dl.After(d.until)) {
		dl = d.until
	}
	_ = d.conn.SetWriteDeadline(dl)
	d.moved = now
}

// streamChunk is the most written to the connection between two moves of
// the deadline: a single write must complete within the write timeout, so
// it is kept small (io.Copy would write 32 kB at once).
const streamChunk = 8 << 10

// SendStream sends r as the response body (size bytes; -1: unknown, sent
// chunked) with the write deadline moving on progress and max (0: none)
// bounding the whole. r is closed afterwards when it is an io.Closer.
func SendStream(c fiber.Ctx, r io.Reader, size int, max time.Duration) error {
	return c.SendStream(&progressReader{r: r, d: newStreamDeadline(c, max)}, size)
}

// progressReader is read by the server goroutine, which writes what it read
// to the connection before it reads again: a read means the connection took
// the previous piece, and the deadline moves before the next is written.
type progressReader struct {
	r io.Reader
	d *streamDeadline
}

func (p *progressReader) Read(b []byte) (int, error) {
	if len(b) > streamChunk {
		b = b[:streamChunk]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		p.d.progress()
	}
	return n, err
}

// WriteTo copies in small pieces: fasthttp prefers WriteTo, and without it
// the connection's ReadFrom would read (and write) 32 kB at a time.
func (p *progressReader) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, streamChunk)
	var written int64
	for {
		n, err := p.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			written += int64(m)
			if werr != nil {
				return written, werr
			}
		}
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, err
		}
	}
}

// Close closes the underlying reader (fasthttp closes a body stream once
// sent, or when the response is reset).
func (p *progressReader) Close() error {
	if c, ok := p.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// SendStreamWriter streams what write writes as the response body (chunked),
// with the write deadline moving on progress and max (0: none) bounding the
// whole. write runs in a goroutine of its own once the server starts sending
// the body, after the handler has returned (the handler's context is gone):
// it gets a context that ends after max or when the client is gone, and its
// writes wait for the client. When write fails (or max passes) the body is
// cut off without its last chunk, so the client sees a broken download, not
// a short file that looks complete.
//
// As write runs after the handler returned, it must not use c, nor keep any
// string taken from it (c.Query, c.Params, c.Get, c.Cookies, c.RequestID):
// fiber hands out views of fasthttp's buffers, which the connection's next
// request (or another connection, the context being pooled) overwrites while
// write may still run — a data race and a wrong value. The server runs with
// fiber's Immutable setting, which makes every such string a copy; an app
// without it must copy them (strings.Clone) before write.
func SendStreamWriter(c fiber.Ctx, max time.Duration, write func(ctx context.Context, w io.Writer) error) error {
	return c.SendStream(&progressReader{r: &writerBody{write: write, max: max}, d: newStreamDeadline(c, max)}, -1)
}

// writerBody runs write on its first Read and hands what it writes to the
// server through a pipe: write's writes block until the server read them,
// so the server's reads measure the client's progress (fasthttp's own
// SendStreamWriter buffers in between, and the deadline would only move
// when write did).
type writerBody struct {
	write  func(ctx context.Context, w io.Writer) error
	max    time.Duration
	pr     *io.PipeReader
	cancel context.CancelFunc
}

func (b *writerBody) Read(p []byte) (int, error) {
	if b.pr == nil {
		pr, pw := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		if b.max > 0 {
			ctx, cancel = context.WithTimeout(context.Background(), b.max)
		}
		b.pr, b.cancel = pr, cancel
		go func() {
			defer cancel()
			bw := bufio.NewWriterSize(pw, 4<<10)
			err := b.write(ctx, bw)
			if err == nil {
				err = ctx.Err()
			}
			if err == nil {
				err = bw.Flush()
			}
			_ = pw.CloseWithError(err) // nil: EOF
		}()
	}
	return b.pr.Read(p)
}

// Close ends write's context and fails its further writes: the client is
// gone, or the body was never sent.
func (b *writerBody) Close() error {
	if b.pr == nil {
		return nil
	}
	b.cancel()
	return b.pr.CloseWithError(errStreamClosed)
}

var errStreamClosed = errors.New("web: response stream closed")
