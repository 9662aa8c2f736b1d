package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// sendRaw writes a request by hand: header (Content-Length declared, or
// chunked when declared < 0), then only the given body bytes, and reads the
// answer. The read deadline only guards against a server waiting for a body
// that never comes (the bug); it measures nothing.
//
// The response's Close field reports that the server ended the connection
// after the answer (checked by reading on: only for refusals, a kept
// connection would block until the deadline).
func sendRaw(t *testing.T, srvURL, path string, header []string, declared int64, body []byte) (*http.Response, string, error) {
	conn, err := net.Dial("tcp", strings.TrimPrefix(srvURL, "http://"))
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	var h strings.Builder
	fmt.Fprintf(&h, "POST %s HTTP/1.1\r\nHost: %s\r\n", path, strings.TrimPrefix(srvURL, "http://"))
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&h, "%s: %s\r\n", header[i], header[i+1])
	}
	if declared >= 0 {
		fmt.Fprintf(&h, "Content-Length: %d\r\n\r\n", declared)
	} else {
		h.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	}
	if _, err := io.WriteString(conn, h.String()); err != nil {
		return nil, "", err
	}
	if declared < 0 {
		for off := 0; off < len(body); off += 16 << 10 {
			chunk := body[off:min(off+16<<10, len(body))]
			if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
				break // answered and closed before all was sent
			}
		}
		_, _ = io.WriteString(conn, "0\r\n\r\n")
	} else {
		_, _ = conn.Write(body)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, "", fmt.Errorf("no answer while the declared body is incomplete: %w", err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !res.Close && res.StatusCode >= 400 {
		_, err := br.ReadByte()
		res.Close = err == io.EOF
	}
	return res, string(b), nil
}

// 20 parallel anonymous 60 MiB STOW-RS requests: each is
// answered 401 after sending 64 KiB, with the connection closed, so no
// anonymous body is ever read (peak RSS is in make bench's stress part).
func TestAnonymousLargePostsNotRead(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _, err := sendRaw(t, srv.URL, "/dicomweb/studies",
				[]string{"Content-Type", `multipart/related; type="application/dicom"; boundary=b`}, 60<<20, make([]byte, 64<<10))
			switch {
			case err != nil:
				errs <- err
			case res.StatusCode != http.StatusUnauthorized || !res.Close:
				errs <- fmt.Errorf("status %d, connection close %v", res.StatusCode, res.Close)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Forms get a few hundred KiB, sign-in forms a few KiB: refused with 413
// from the Content-Length before reading, and from the bytes read for a
// chunked body; the refusal never shows the value back.
func TestFormBodyLimits(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	c.Get("/staff/signin")
	cookie := ""
	for _, ck := range c.Jar.Cookies(mustURL(t, srv.URL)) {
		cookie += ck.Name + "=" + ck.Value + "; "
	}
	huge := "lang=" + strings.Repeat("A", 300<<10)
	tests := []struct {
		name     string
		path     string
		declared int64 // -1: chunked
		body     string
		want     int
	}{
		{"sign-in form over 8 KiB, declared", "/staff/signin", 20 << 10, "username=" + strings.Repeat("u", 20<<10-9), http.StatusRequestEntityTooLarge},
		{"sign-in form over 8 KiB, chunked", "/staff/signin", -1, "username=" + strings.Repeat("u", 20<<10), http.StatusRequestEntityTooLarge},
		{"form of 60 MiB declared, 64 KiB sent", "/language", 60 << 20, huge[:64<<10], http.StatusRequestEntityTooLarge},
		{"form over 256 KiB, chunked", "/language", -1, huge, http.StatusRequestEntityTooLarge},
		{"small form: on to CSRF (403 without the token)", "/language", int64(len("lang=nl")), "lang=nl", http.StatusForbidden},
		// Each row's limit comes before its guards, and unknown URLs get a form's.
		{"staff form, signed out: the limit before the sign-in check", "/staff/users", 60 << 20, huge[:64<<10], http.StatusRequestEntityTooLarge},
		{"patient form, signed out: the limit before the stage check", "/p/code", 60 << 20, huge[:64<<10], http.StatusRequestEntityTooLarge},
		{"unknown URL of 60 MiB declared", "/nowhere", 60 << 20, huge[:64<<10], http.StatusRequestEntityTooLarge},
		{"unknown staff URL, small form: CSRF first (403)", "/staff/nowhere", int64(len("lang=nl")), "lang=nl", http.StatusForbidden},
	}
	for _, tc := range tests {
		res, page, err := sendRaw(t, srv.URL, tc.path, []string{"Content-Type", "application/x-www-form-urlencoded",
			"Origin", srv.URL, "Cookie", cookie}, tc.declared, []byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
		if strings.Contains(page, strings.Repeat("A", 1000)) || strings.Contains(page, strings.Repeat("u", 1000)) {
			t.Errorf("%s: the page shows the value back", tc.name)
		}
	}
}

// Forms still work with streamed bodies: url-encoded and multipart/form-data.
func TestFormsWorkWithStreamedBodies(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	c := srv.Client(t)
	if res, body := c.PostForm("/language", url.Values{"lang": {"nl"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("url-encoded form: %d\n%s", res.StatusCode, body)
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("_csrf", c.CSRF)
	_ = w.WriteField("lang", "de")
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/language", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", srv.URL)
	if res, body := c.Do(req); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("multipart form: %d\n%s", res.StatusCode, body)
	}
	if ck := c.Cookie("radpass_lang"); ck == nil || ck.Value != "de" {
		t.Fatalf("language cookie after the multipart form: %v", ck)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
