package web_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/requestid"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/web"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The access log is one JSON object per request with a request id, and
// never the query string or the body (a searched name, a password).
func TestAccessLog(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	app := fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error { return c.SendStatus(web.StatusOf(err)) }})
	app.Use(requestid.New())
	app.Use(web.AccessLog(log))
	app.Get("/staff/", func(c fiber.Ctx) error { return c.SendString("list") })
	app.Post("/staff/signin", func(c fiber.Ctx) error { return c.SendStatus(http.StatusSeeOther) })
	app.Get("/missing", func(c fiber.Ctx) error { return apperr.New(apperr.NotFound, "error.notfound") })
	app.Get("/static/app.css", func(c fiber.Ctx) error { return c.SendString("css") })

	reqs := []*http.Request{
		httptest.NewRequest(http.MethodGet, "/staff/?q=Jansen&birth=1961-04-02", nil),
		httptest.NewRequest(http.MethodPost, "/staff/signin", strings.NewReader(url.Values{"username": {"ann"}, "password": {"s3cret-pass"}}.Encode())),
		httptest.NewRequest(http.MethodGet, "/missing", nil),
		httptest.NewRequest(http.MethodGet, "/static/app.css", nil),
	}
	reqs[1].Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, r := range reqs {
		serve(t, app, r)
	}
	out := buf.String()
	// (The date whole: "1961" alone turns up in a random duration or
	// timestamp now and then.)
	for _, secret := range []string{"Jansen", "1961-04-02", "birth", "s3cret", "password"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3 (static files are not logged):\n%s", len(lines), out)
	}
	want := []struct {
		path   string
		status float64
	}{{"/staff/", 200}, {"/staff/signin", 303}, {"/missing", 404}}
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i, err, l)
		}
		if id, _ := m["request_id"].(string); len(id) < 8 {
			t.Errorf("line %d has no request id: %s", i, l)
		}
		if m["path"] != want[i].path || m["status"] != want[i].status {
			t.Errorf("line %d: path %v status %v, want %s %v", i, m["path"], m["status"], want[i].path, want[i].status)
		}
	}
}

// The language from the cookie is i18n's own string, not a view of the
// request buffer: translators built from it are handed to stream writers
// that run after the handler returned, when fasthttp reuses that buffer.
func TestResolveLangOwnsItsString(t *testing.T) {
	t.Parallel()
	app := fiber.New()
	var owned atomic.Bool
	app.Get("/", func(c fiber.Ctx) error {
		lang := web.ResolveLang(c)
		owned.Store(lang == "nl" && unsafe.StringData(lang) == unsafe.StringData(i18n.Languages[slices.Index(i18n.Languages, "nl")]))
		return nil
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: web.LangCookie, Value: "nl"})
	serve(t, app, req)
	if !owned.Load() {
		t.Fatal("ResolveLang returned the cookie's bytes, not i18n.Languages' string")
	}
}
