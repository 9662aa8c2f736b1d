package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/web"
)

// outboxApp is a bare app with the real views and the dev outbox page.
func outboxApp(t *testing.T) (*fiber.App, *notify.Outbox) {
	t.Helper()
	db := testdb.New(t)
	engine, err := server.Views()
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{Views: engine, ErrorHandler: web.ErrorHandler})
	app.Use(web.Language())
	app.Get("/dev/outbox", web.NoStorePages, server.DevOutbox(db))
	return app, &notify.Outbox{DB: db}
}

func getOutbox(t *testing.T, app *fiber.App, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/dev/outbox", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := goquery.NewDocumentFromReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, doc
}

func TestDevOutboxListsMessagesNewestFirst(t *testing.T) {
	t.Parallel()
	app, outbox := outboxApp(t)
	ctx := context.Background()

	res, doc := getOutbox(t, app)
	if res.StatusCode != http.StatusOK || doc.Find(`[data-testid="outbox-empty"]`).Length() != 1 || doc.Find(`[data-testid="outbox-row"]`).Length() != 0 {
		t.Fatalf("empty outbox: %d", res.StatusCode)
	}

	sms, mail := notify.OTPMessages("en", "246810", "Radiology North")
	mail.To = "patient@example.org"
	if err := outbox.SendSMS(ctx, "+32470123456", sms); err != nil {
		t.Fatal(err)
	}
	if err := outbox.SendEmail(ctx, mail); err != nil {
		t.Fatal(err)
	}
	if err := outbox.SendSMS(ctx, "+31612345678", `<b>not bold</b> 135791`); err != nil {
		t.Fatal(err)
	}

	res, doc = getOutbox(t, app, "Accept-Language", "nl")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q: the page shows one-time passwords", cc)
	}
	if doc.Find("body.patient").Length() != 1 || doc.Find("html").AttrOr("lang", "") != "nl" {
		t.Fatal("not the patient layout in Dutch")
	}
	if h := doc.Find("h1").Text(); h != "Dev-outbox" {
		t.Fatalf("heading %q", h)
	}
	heads := doc.Find("th").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if strings.Join(heads, "|") != "Tijd (UTC)|Kanaal|Aan|Bericht" {
		t.Fatalf("headings %q", heads)
	}
	rows := doc.Find(`[data-testid="outbox-row"]`)
	if rows.Length() != 3 {
		t.Fatalf("%d rows", rows.Length())
	}
	want := []struct{ channel, to, label, text string }{
		{"sms", "+31612345678", "Sms", "<b>not bold</b> 135791"},
		{"email", "patient@example.org", "E-mail", mail.Text},
		{"sms", "+32470123456", "Sms", sms},
	}
	rows.Each(func(i int, r *goquery.Selection) {
		w := want[i]
		if r.AttrOr("data-channel", "") != w.channel || r.AttrOr("data-to", "") != w.to {
			t.Errorf("row %d: %s to %s", i, r.AttrOr("data-channel", ""), r.AttrOr("data-to", ""))
		}
		cells := r.Find("td")
		if cells.Eq(1).Text() != w.label || cells.Eq(2).Text() != w.to {
			t.Errorf("row %d: cells %q %q", i, cells.Eq(1).Text(), cells.Eq(2).Text())
		}
		if got := r.Find(`[data-testid="outbox-text"]`).Text(); got != w.text {
			t.Errorf("row %d: text %q, want %q", i, got, w.text)
		}
		if _, ok := r.Find("time").Attr("datetime"); !ok {
			t.Errorf("row %d: no time", i)
		}
	})
	if doc.Find("td b").Length() != 0 {
		t.Fatal("a message's text is rendered as HTML")
	}
	if got := rows.Eq(1).Find("strong").Text(); got != mail.Subject {
		t.Fatalf("e-mail subject %q", got)
	}

	// htmx gets the fragment alone.
	res, doc = getOutbox(t, app, "HX-Request", "true")
	if res.StatusCode != http.StatusOK || doc.Find("body.patient").Length() != 0 || doc.Find(`[data-testid="outbox-row"]`).Length() != 3 {
		t.Fatal("htmx request did not get the bare fragment")
	}
}

// Outside dev mode the page does not exist.
func TestDevOutboxIsNotMountedOutsideDevMode(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, func(c *config.Config) { c.Dev = false })
	res, _ := srv.Client(t).Get("/dev/outbox")
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d outside dev mode", res.StatusCode)
	}
}
