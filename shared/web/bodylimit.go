package web

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
)

// Request body limits. The server streams request bodies (Fiber's
// StreamRequestBody): nothing is read before a handler asks for it, so the
// app-wide BodyLimit bounds nothing. Every route therefore reads
// its body through one of these limits:
//
//   - pages and forms: LimitBody with FormBodyLimit (sign-in forms with
//     SignInBodyLimit), first in the route's chain, which reads the body into
//     memory up to the limit before CSRF or the handler reads it, so
//     c.FormValue, c.Body and multipart forms work;
//   - machine endpoints (STOW-RS, report API): LimitedBody after the token
//     check, streamed part by part to storage.
const (
	FormBodyLimit   = 256 << 10 // any page form (print, settings, …)
	SignInBodyLimit = 8 << 10   // sign-in forms: a name, a password, a token
)

// ErrBodyTooLarge is what a LimitedBody reader returns past its limit.
var ErrBodyTooLarge = errors.New("request body too large")

// LimitBody reads the request body into memory, at most max bytes, before
// the next handler runs, and answers 413 (and closes the connection, leaving
// the rest unread) above it: from the Content-Length before a byte of the
// body is read, and from the bytes actually read for chunked bodies. Each
// route of the table in shared/server/routes.go starts with its own. Mounted
// a second time, it only measures the body already read.
func LimitBody(max int64) fiber.Handler {
	return func(c fiber.Ctx) error {
		if err := ReadBodyLimited(c, max); err != nil {
			return err
		}
		return c.Next()
	}
}

// ReadBodyLimited makes the request body an in-memory body of at most max
// bytes, or answers with a 413 error (the connection is closed after the
// answer, since the rest of the body stays unread).
func ReadBodyLimited(c fiber.Ctx, max int64) error {
	req := c.Request()
	if int64(req.Header.ContentLength()) > max {
		return tooLarge(c)
	}
	stream := req.BodyStream()
	if stream == nil || !req.IsBodyStream() {
		// Already in memory (a second limit on the route, or a server
		// without streaming): only measure it.
		if int64(len(req.Body())) > max {
			return tooLarge(c)
		}
		return nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(stream, max+1))
	if n > max {
		return tooLarge(c)
	}
	if err != nil {
		CloseAfterAnswer(c)
		return apperr.New(apperr.Invalid, "error.badrequest")
	}
	req.SetBody(buf.Bytes())
	return nil
}

func tooLarge(c fiber.Ctx) error {
	CloseAfterAnswer(c)
	return apperr.New(apperr.TooLarge, "error.toolarge")
}

// Lingering close: after answering a request whose body stays unread, the
// server stops sending (TCP half-close) and discards what the client still
// sends for a short while, at most LingerBytes, before closing. A plain
// close with unread data makes the kernel send a reset, and a client still
// busy sending its body then never sees the 401 or 413 (Go's net/http
// server does the same). Nothing is kept in memory.
const (
	LingerTime  = 500 * time.Millisecond
	LingerBytes = 4 << 20
)

type closeWriter interface{ CloseWrite() error }

// CloseAfterAnswer ends the connection once the answer is written, without
// reading the rest of the request body (see LingerTime).
func CloseAfterAnswer(c fiber.Ctx) {
	rc := c.RequestCtx()
	raw := rc.Conn()
	cw, ok := raw.(closeWriter)
	if !ok || raw == nil {
		c.Response().SetConnectionClose()
		return
	}
	// fasthttp hands a connection over only when the answer does not say
	// Connection: close, which a client needs to hear (or it reuses the
	// connection): so the answer is written here, with that header.
	rc.HijackSetNoResponse(true)
	rc.Hijack(func(conn net.Conn) {
		rc.Response.SetConnectionClose()
		bw := bufio.NewWriter(conn)
		if rc.Response.Write(bw) != nil || bw.Flush() != nil {
			return
		}
		_ = cw.CloseWrite()
		_ = raw.SetReadDeadline(time.Now().Add(LingerTime))
		_, _ = io.CopyN(io.Discard, conn, LingerBytes)
	})
}

// LimitedBody returns the request body as a stream that fails with
// ErrBodyTooLarge after max bytes (nil when the Content-Length says so
// already). Read it only after the caller is authenticated. Call
// FinishBody when done so a body left unread closes the connection.
func LimitedBody(c fiber.Ctx, max int64) (*LimitReader, bool) {
	req := c.Request()
	if int64(req.Header.ContentLength()) > max {
		CloseAfterAnswer(c)
		return nil, false
	}
	var r io.Reader
	if s := req.BodyStream(); s != nil && req.IsBodyStream() {
		r = s
	} else {
		r = bytes.NewReader(req.Body())
	}
	return &LimitReader{r: r, left: max}, true
}

// LimitReader reads at most a limit and then fails with ErrBodyTooLarge; it
// remembers whether it reached the end of the body.
type LimitReader struct {
	r    io.Reader
	left int64
	n    int64
	eof  bool
	err  error
}

// Read implements io.Reader.
func (l *LimitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.left <= 0 {
		// One more byte tells "exactly at the limit" from "over it".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.err = ErrBodyTooLarge
			return 0, l.err
		}
		if err == io.EOF {
			l.eof = true
		}
		if err != nil {
			l.err = err
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	l.n += int64(n)
	if err == io.EOF {
		l.eof = true
	}
	if err != nil {
		l.err = err
	}
	return n, err
}

// N is the number of body bytes read.
func (l *LimitReader) N() int64 { return l.n }

// TooLarge reports that the body went past the limit.
func (l *LimitReader) TooLarge() bool { return errors.Is(l.err, ErrBodyTooLarge) }

// FinishBody closes the connection after the answer (CloseAfterAnswer) unless the body was read
// to its end (an unread rest would otherwise be parsed as the next request).
func FinishBody(c fiber.Ctx, l *LimitReader) {
	if l == nil || !l.eof {
		CloseAfterAnswer(c)
	}
}
