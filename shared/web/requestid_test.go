package web_test

import (
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// The logged request id is made by the server; an X-Request-Id the client
// chose is logged apart, cut to printable ASCII, and never becomes the id.
func TestRequestIDIsServerSide(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	app := fiber.New()
	app.Use(web.RequestID())
	app.Use(web.AccessLog(slog.New(slog.NewJSONHandler(&buf, nil))))
	app.Get("/", func(c fiber.Ctx) error { return c.SendString(c.RequestID()) })
	tests := []struct {
		name, sent, wantClient string
	}{
		{"none", "", ""},
		{"forged", "victim-request-42", "victim-request-42"},
		{"non-ASCII", "a\u00e9b", "ab"},
		{"long", strings.Repeat("x", 500), strings.Repeat("x", 128)},
	}
	for _, tt := range tests {
		buf.mu.Lock()
		buf.b.Reset()
		buf.mu.Unlock()
		req := httptest.NewRequest("GET", "/", nil)
		if tt.sent != "" {
			req.Header.Set("X-Request-Id", tt.sent)
		}
		res := serve(t, app, req)
		id := res.Header.Get("X-Request-Id")
		if id == "" || id == tt.sent || strings.Contains(id, "victim") {
			t.Fatalf("%s: response id %q", tt.name, id)
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
			t.Fatal(err)
		}
		if line["request_id"] != id {
			t.Fatalf("%s: logged id %v, response id %q", tt.name, line["request_id"], id)
		}
		got, _ := line["client_request_id"].(string)
		if got != tt.wantClient {
			t.Fatalf("%s: client id logged as %q, want %q", tt.name, got, tt.wantClient)
		}
	}
}

// AssetFS hides every file that is not an asset (the package's Go source).
func TestAssetFS(t *testing.T) {
	t.Parallel()
	fsys := web.AssetFS(fstest.MapFS{
		"embed.go":         {Data: []byte("package static")},
		"app.css":          {Data: []byte("body{}")},
		"vendor/htmx.js":   {Data: []byte("//")},
		"vendor/README.md": {Data: []byte("x")},
	})
	for name, want := range map[string]bool{"embed.go": false, "app.css": true, "vendor/htmx.js": true, "vendor/README.md": false, "vendor": true, "missing.css": false} {
		f, err := fsys.Open(name)
		if (err == nil) != want {
			t.Errorf("Open(%q): err %v, want served %v", name, err, want)
		}
		if f != nil {
			f.Close()
		}
	}
}
