package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

func TestCapValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int // length of the result
	}{
		{"short", "hello", 5},
		{"at the cap", strings.Repeat("a", web.MaxShownValue), web.MaxShownValue},
		{"60 MB", strings.Repeat("a", 60<<20), web.MaxShownValue},
		{"multi-byte rune across the cap", strings.Repeat("a", web.MaxShownValue-1) + "é" + "b", web.MaxShownValue - 1},
		{"emoji across the cap", strings.Repeat("a", web.MaxShownValue-2) + "😀", web.MaxShownValue - 2},
	}
	for _, tc := range tests {
		got := web.CapValue(tc.in)
		if len(got) != tc.want || !utf8.ValidString(got) || !strings.HasPrefix(tc.in, got) {
			t.Errorf("%s: %d bytes (valid %v), want %d", tc.name, len(got), utf8.ValidString(got), tc.want)
		}
	}
}

// bodyApp serves echo handlers behind LimitBody on a streaming server, as
// the real app runs.
func bodyApp(t *testing.T) string {
	t.Helper()
	app := fiber.New(fiber.Config{StreamRequestBody: true, DisablePreParseMultipartForm: true, ErrorHandler: func(c fiber.Ctx, err error) error {
		return c.Status(web.StatusOf(err)).SendString("refused")
	}})
	echo := func(c fiber.Ctx) error { return c.SendString(fmt.Sprintf("%d %s", len(c.Body()), c.FormValue("f"))) }
	app.Post("/form", web.LimitBody(1000), echo)
	app.Post("/small", web.LimitBody(100), echo)
	app.Post("/big/x", web.LimitBody(5000), echo)
	app.Post("/twice", web.LimitBody(1000), web.LimitBody(50), echo)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return "http://" + ln.Addr().String()
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	base := bodyApp(t)
	form := func(n int) string { return "f=" + strings.Repeat("v", n-2) }
	tests := []struct {
		name    string
		path    string
		body    string
		chunked bool
		want    int
	}{
		{"at the default limit", "/form", form(1000), false, http.StatusOK},
		{"one over the default", "/form", form(1001), false, http.StatusRequestEntityTooLarge},
		{"chunked at the limit", "/form", form(1000), true, http.StatusOK},
		{"chunked one over", "/form", form(1001), true, http.StatusRequestEntityTooLarge},
		{"a smaller limit", "/small", form(101), false, http.StatusRequestEntityTooLarge},
		{"a larger limit", "/big/x", form(4000), true, http.StatusOK},
		{"second limit on the route", "/twice", form(51), false, http.StatusRequestEntityTooLarge},
		{"second limit, within", "/twice", form(50), false, http.StatusOK},
	}
	for _, tc := range tests {
		var r io.Reader = strings.NewReader(tc.body)
		if tc.chunked {
			r = io.MultiReader(r) // unknown length: Go sends it chunked
		}
		req, _ := http.NewRequest(http.MethodPost, base+tc.path, r)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
			continue
		}
		if tc.want == http.StatusOK && string(got) != fmt.Sprintf("%d %s", len(tc.body), tc.body[2:]) {
			t.Errorf("%s: the handler saw %.40q…", tc.name, got)
		}
	}
	// Refused on its Content-Length: the answer comes although the body is
	// not sent, and then the server ends the connection (half-close first,
	// so a client still sending reads the answer instead of a reset).
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// (fasthttp pre-reads up to 8 KiB of a body before any handler runs.)
	fmt.Fprintf(conn, "POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nf=%s", 10<<20, strings.Repeat("a", 16<<10))
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared 10 MiB: %v %v", res, err)
	}
	_, _ = io.ReadAll(res.Body)
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the 413 the connection is not ended: %v", err)
	}
	// A multipart form is read from the limited body.
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("f", "multi")
	_ = w.Close()
	res, err = http.Post(base+"/form", w.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(string(got), " multi") {
		t.Fatalf("multipart form: %d %s", res.StatusCode, got)
	}
}
