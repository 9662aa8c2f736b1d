package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/web"
)

func multipartBody(t *testing.T, fields map[string]string, file []byte) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		fw, err := w.CreateFormFile("upload", "scan.dcm")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(file)
	}
	w.Close()
	return b.String(), w.FormDataContentType()
}

// Invalid UTF-8 and NUL bytes in form fields are refused with 422 naming the
// field, before any handler sees them; good text, GETs, uploaded file bytes
// and machine endpoints pass.
func TestRefuseBadFormText(t *testing.T) {
	t.Parallel()
	app := fiber.New(fiber.Config{ErrorHandler: func(c fiber.Ctx, err error) error {
		var ae *apperr.Error
		field := ""
		if e, ok := err.(*apperr.Error); ok {
			ae = e
			field = ae.Field
		}
		return c.Status(web.StatusOf(err)).SendString("field=" + field)
	}})
	app.Use(web.RefuseBadFormText)
	var reached atomic.Int64
	h := func(c fiber.Ctx) error { reached.Add(1); return c.SendString("ok") }
	app.Post("/form", h)
	app.Get("/form", h)
	app.Post("/dicomweb/studies", h)

	mpOK, ctOK := multipartBody(t, map[string]string{"name": "Müller 😀"}, []byte{0, 0xff, 0xfe, 0})
	mpNUL, ctNUL := multipartBody(t, map[string]string{"message": "hi\x00there"}, nil)
	mpBad, ctBad := multipartBody(t, map[string]string{"name": "ok", "note": "caf\xe9"}, nil)
	const form = "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, path, ct, body string
		want                         int
		wantField                    string
	}{
		{"good text", "POST", "/form", form, "name=M%C3%BCller&message=caf%C3%A9+%F0%9F%98%80", 200, ""},
		{"NUL", "POST", "/form", form, "name=ann&message=a%00b", 422, "message"},
		{"invalid UTF-8", "POST", "/form", form, "name=%FF%FEann", 422, "name"},
		{"overlong encoding", "POST", "/form", form, "reason=%C0%AF", 422, "reason"},
		{"bad field name", "POST", "/form", form, "a%00b=1", 422, `"ab"`},
		{"multipart good, binary file", "POST", "/form", ctOK, mpOK, 200, ""},
		{"multipart NUL", "POST", "/form", ctNUL, mpNUL, 422, "message"},
		{"multipart invalid UTF-8", "POST", "/form", ctBad, mpBad, 422, "note"},
		{"GET query untouched", "GET", "/form?q=%00", "", "", 200, ""},
		{"machine endpoint", "POST", "/dicomweb/studies", form, "x=%00", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := reached.Load()
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			res := serve(t, app, req)
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d (%s)", res.StatusCode, tt.want, b.String())
			}
			if tt.want == 422 {
				if b.String() != "field="+tt.wantField {
					t.Fatalf("answer %q, want the field %s named", b.String(), tt.wantField)
				}
				if reached.Load() != before {
					t.Fatal("the handler ran on a refused form")
				}
			}
		})
	}
}
