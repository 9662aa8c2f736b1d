package web_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/views"
)

// errorApp is a test-only app with the real views and error handler, and
// routes that fail in every way a handler can.
func errorApp(t *testing.T) *fiber.App {
	t.Helper()
	engine, err := web.LoadViews(views.FS, web.TemplateFuncs())
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{Views: engine, ErrorHandler: web.ErrorHandler})
	app.Use(recover.New())
	app.Use(web.SecurityHeaders(false))
	secret := errors.New(`pgdriver: ERROR #42P01 relation "users" does not exist; password=hunter2`)
	app.Get("/internal", func(c fiber.Ctx) error { return secret })
	app.Get("/p/internal", func(c fiber.Ctx) error { return secret })
	app.Get("/panic", func(c fiber.Ctx) error { panic("runtime: secret state 0xdeadbeef") })
	app.Get("/forbidden", func(c fiber.Ctx) error { return apperr.New(apperr.Forbidden, "error.forbidden") })
	app.Get("/toomany", func(c fiber.Ctx) error { return apperr.New(apperr.TooMany, "error.toomany") })
	app.Get("/fiber404", func(c fiber.Ctx) error { return fiber.ErrNotFound })
	app.Get("/unauth", func(c fiber.Ctx) error { return apperr.New(apperr.Unauthorized, "error.unauthorized") })
	app.Get("/p/unauth", func(c fiber.Ctx) error { return apperr.New(apperr.Unauthorized, "error.unauthorized") })
	return app
}

func TestErrorHandler(t *testing.T) {
	t.Parallel()
	app := errorApp(t)
	tests := []struct {
		path   string
		htmx   bool
		status int
		text   string
	}{
		{"/internal", false, 500, "Something went wrong on our side."},
		{"/internal", true, 500, "Something went wrong on our side."},
		{"/p/internal", false, 500, "Something went wrong on our side."},
		{"/panic", false, 500, "Something went wrong on our side."},
		{"/panic", true, 500, "Something went wrong on our side."},
		{"/forbidden", false, 403, "You are not allowed to do this."},
		{"/forbidden", true, 403, "You are not allowed to do this."},
		{"/toomany", false, 429, "Too many attempts."},
		{"/fiber404", false, 404, "This page does not exist"},
		{"/fiber404", true, 404, "This page does not exist"},
		{"/unauth", false, 401, "Please sign in first."},
	}
	for _, tt := range tests {
		name := tt.path
		if tt.htmx {
			name += " htmx"
		}
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			req.Header.Set("Accept-Language", "en")
			if tt.htmx {
				req.Header.Set("HX-Request", "true")
			}
			res := serve(t, app, req)
			b, _ := io.ReadAll(res.Body)
			body := string(b)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tt.status, body)
			}
			if !strings.Contains(body, tt.text) {
				t.Fatalf("body lacks %q:\n%s", tt.text, body)
			}
			for _, leak := range []string{"pgdriver", "relation", "hunter2", "deadbeef", "runtime", "42P01"} {
				if strings.Contains(body, leak) {
					t.Fatalf("body leaks %q:\n%s", leak, body)
				}
			}
			full := strings.Contains(body, "<html")
			if full == tt.htmx {
				t.Fatalf("htmx=%v but full page=%v", tt.htmx, full)
			}
			if tt.htmx && res.Header.Get("HX-Retarget") != "#alerts" {
				t.Fatalf("htmx error not retargeted: %q", res.Header.Get("HX-Retarget"))
			}
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", res.Header)
			}
		})
	}
	// An htmx request whose session ended is sent to sign in.
	req := httptest.NewRequest(http.MethodGet, "/unauth", nil)
	req.Header.Set("HX-Request", "true")
	res := serve(t, app, req)
	if res.StatusCode != 401 || res.Header.Get("HX-Redirect") != "/staff/signin" {
		t.Fatalf("htmx 401: %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	// ... and a patient to the patient start page, never the staff sign-in.
	req = httptest.NewRequest(http.MethodGet, "/p/unauth", nil)
	req.Header.Set("HX-Request", "true")
	res = serve(t, app, req)
	if res.StatusCode != 401 || res.Header.Get("HX-Redirect") != "/" {
		t.Fatalf("patient htmx 401: %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{apperr.New(apperr.Invalid, "x"), 422},
		{apperr.New(apperr.NotFound, "x"), 404},
		{fiber.ErrMethodNotAllowed, 405},
		{errors.New("boom"), 500},
		{errors.Join(errors.New("ctx"), apperr.New(apperr.Conflict, "x")), 409},
	}
	for _, tt := range tests {
		if got := web.StatusOf(tt.err); got != tt.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
