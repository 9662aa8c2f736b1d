package notify_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

func TestOutboxStoresAndListsNewestFirst(t *testing.T) {
	db := testdb.New(t)
	o := &notify.Outbox{DB: db}
	ctx := context.Background()
	if got, err := o.Recent(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("empty outbox: %v, %v", got, err)
	}
	if err := o.SendSMS(ctx, "+32470123456", "111111 is your code"); err != nil {
		t.Fatal(err)
	}
	if err := o.SendEmail(ctx, notify.EmailMessage{To: "p@example.org", Subject: "Your code", Text: "222222", HTML: "<p>222222</p>"}); err != nil {
		t.Fatal(err)
	}
	if err := o.SendSMS(ctx, "+31612345678", "333333 is your code"); err != nil {
		t.Fatal(err)
	}
	got, err := o.Recent(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Text != "333333 is your code" || got[2].Text != "111111 is your code" {
		t.Fatalf("not newest first: %+v", got)
	}
	e := got[1]
	if e.Channel != notify.ChannelEmail || e.To != "p@example.org" || e.Subject != "Your code" || e.HTML != "<p>222222</p>" || e.CreatedAt.IsZero() || e.ID == 0 {
		t.Fatalf("e-mail row %+v", e)
	}
	if got[0].Channel != notify.ChannelSMS || got[0].To != "+31612345678" || got[0].Subject != "" {
		t.Fatalf("SMS row %+v", got[0])
	}
	if two, _ := o.Recent(ctx, 2); len(two) != 2 || two[0].ID != got[0].ID {
		t.Fatalf("limit 2: %+v", two)
	}
	if one, _ := o.Recent(ctx, 0); len(one) != 1 {
		t.Fatalf("limit 0 gives %d rows, want at least one", len(one))
	}
	// A second "instance" on the same database sees the same messages.
	if other, _ := (&notify.Outbox{DB: db}).Recent(ctx, 10); len(other) != 3 {
		t.Fatalf("another instance sees %d", len(other))
	}
}

func TestOutboxReportsDatabaseErrors(t *testing.T) {
	db := testdb.New(t)
	o := &notify.Outbox{DB: db}
	// Bigger than the column allows: the send fails, it is not silently cut.
	if err := o.SendSMS(context.Background(), strings.Repeat("1", 400), "x"); err == nil {
		t.Fatal("an oversized destination was stored")
	}
}

func load(t *testing.T, kv ...string) *config.Config {
	t.Helper()
	// Dev mode keeps a secret key in the data folder: never the source tree.
	m := map[string]string{"RADPASS_DATA_DIR": t.TempDir()}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	c, err := config.Load(func(k string) string { return m[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewChoosesBackends(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	prod := []string{"RADPASS_DATABASE_URL", "postgres://x/y", "RADPASS_SECRET_KEY", strings.Repeat("ab", 32)}

	// Dev mode, nothing configured: both channels write the dev outbox.
	n := notify.New(load(t, "RADPASS_DEV", "1"), db)
	if n.Outbox == nil || n.SMS != notify.SMS(n.Outbox) || n.Email != notify.Email(n.Outbox) {
		t.Fatalf("dev backends %T %T", n.SMS, n.Email)
	}
	if err := n.SendSMS(ctx, "+32470123456", "444444"); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.Outbox.Recent(ctx, 1); len(got) != 1 || got[0].Text != "444444" {
		t.Fatalf("outbox %+v", got)
	}
	var logs bytes.Buffer
	n.LogStatus(slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "/dev/outbox") || strings.Contains(logs.String(), "WARN") {
		t.Fatalf("dev log: %s", logs.String())
	}

	// Outside dev mode, nothing configured: ErrNotConfigured and a warning per channel.
	n = notify.New(load(t, prod...), db)
	if n.Outbox != nil {
		t.Fatal("an outbox outside dev mode")
	}
	if err := n.SendSMS(ctx, "+32470123456", "555555"); !errors.Is(err, notify.ErrNotConfigured) {
		t.Fatalf("SMS: %v", err)
	}
	if err := n.SendEmail(ctx, notify.EmailMessage{To: "a@example.org"}); !errors.Is(err, notify.ErrNotConfigured) {
		t.Fatalf("e-mail: %v", err)
	}
	logs.Reset()
	n.LogStatus(slog.New(slog.NewTextHandler(&logs, nil)))
	if strings.Count(logs.String(), "level=WARN") != 2 || strings.Contains(logs.String(), "/dev/outbox") {
		t.Fatalf("production log: %s", logs.String())
	}
	if got, _ := (&notify.Outbox{DB: db}).Recent(ctx, 10); len(got) != 1 {
		t.Fatalf("a production send reached the outbox: %+v", got)
	}

	// Configured: Vonage and SMTP, in dev mode too; no outbox.
	n = notify.New(load(t, append(prod, "RADPASS_DEV", "1",
		"RADPASS_VONAGE_API_KEY", "k", "RADPASS_VONAGE_API_SECRET", "s", "RADPASS_SMS_FROM", "RadPass",
		"RADPASS_SMTP_HOST", "smtp.example.org", "RADPASS_SMTP_FROM", "noreply@example.org")...), db)
	v, okV := n.SMS.(*notify.Vonage)
	s, okS := n.Email.(*notify.SMTP)
	if !okV || !okS || n.Outbox != nil {
		t.Fatalf("configured backends %T %T", n.SMS, n.Email)
	}
	if v.BaseURL != "https://rest.nexmo.com" || v.APIKey != "k" || v.APISecret != "s" || v.From != "RadPass" {
		t.Fatalf("vonage %+v", v)
	}
	if s.Host != "smtp.example.org" || s.Port != 587 || s.TLS != "starttls" || s.From != "noreply@example.org" {
		t.Fatalf("smtp %+v", s)
	}

	// One channel configured in dev mode: the other goes to the outbox.
	n = notify.New(load(t, "RADPASS_DEV", "1", "RADPASS_SMTP_HOST", "smtp.example.org", "RADPASS_SMTP_FROM", "noreply@example.org"), db)
	if _, ok := n.Email.(*notify.SMTP); !ok || n.Outbox == nil || n.SMS != notify.SMS(n.Outbox) {
		t.Fatalf("mixed backends %T %T", n.SMS, n.Email)
	}
}

func TestSendOTPPicksTheChannel(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	n := notify.New(load(t, "RADPASS_DEV", "1"), db)
	if err := n.SendOTP(ctx, notify.ChannelSMS, "+32470123456", "nl", "101010", "Radiologie Noord"); err != nil {
		t.Fatal(err)
	}
	if err := n.SendOTP(ctx, notify.ChannelEmail, "p@example.org", "fr", "202020", "Radiologie Nord"); err != nil {
		t.Fatal(err)
	}
	if err := n.SendOTP(ctx, "dob", "x", "en", "303030", ""); err == nil {
		t.Fatal("an unknown channel was accepted")
	}
	got, err := n.Outbox.Recent(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantSMS, _ := notify.OTPMessages("nl", "101010", "Radiologie Noord")
	_, wantFR := notify.OTPMessages("fr", "202020", "Radiologie Nord")
	if len(got) != 2 || got[1].Channel != notify.ChannelSMS || got[1].To != "+32470123456" || got[1].Text != wantSMS {
		t.Fatalf("SMS %+v", got)
	}
	if e := got[0]; e.Channel != notify.ChannelEmail || e.To != "p@example.org" || e.Subject != wantFR.Subject || e.Text != wantFR.Text || e.HTML != wantFR.HTML {
		t.Fatalf("e-mail %+v", e)
	}
}
