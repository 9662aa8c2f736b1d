package notify_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/testkit/testsmtp"
)

// A real message to a real SMTP server (Mailpit): both parts arrive with the
// right text, in every TLS mode.
func TestSMTPDeliversBothParts(t *testing.T) {
	tests := []struct {
		name string
		opts []testsmtp.Option
		mode string
		user string
	}{
		{"plain on loopback with auth", []testsmtp.Option{testsmtp.WithAuth("radpass", "pw")}, "none", "radpass"},
		{"plain without auth", nil, "none", ""},
		{"starttls with auth", []testsmtp.Option{testsmtp.WithSTARTTLS(), testsmtp.WithAuth("radpass", "pw")}, "starttls", "radpass"},
		{"implicit tls with auth", []testsmtp.Option{testsmtp.WithImplicitTLS(), testsmtp.WithAuth("radpass", "pw")}, "tls", "radpass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := testsmtp.Start(t, tt.opts...)
			s := &notify.SMTP{Host: srv.Host, Port: srv.Port, From: "Radiology North <noreply@example.org>", TLS: tt.mode}
			if tt.user != "" {
				s.Username, s.Password = tt.user, "pw"
			}
			if srv.RootCAs != nil {
				s.TLSConfig = &tls.Config{RootCAs: srv.RootCAs, ServerName: srv.Host, MinVersion: tls.VersionTLS12}
			}
			sms, m := notify.OTPMessages("de", "042917", "Radiologie Süd & Co <Nord>")
			_ = sms
			m.To = "patient@example.org"
			if err := s.SendEmail(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := srv.To(t, "patient@example.org")
			if len(got) != 1 {
				t.Fatalf("%d messages arrived", len(got))
			}
			g := got[0]
			if g.Subject != "Ihr RadPass-Code" || g.From == nil || g.From.Address != "noreply@example.org" || g.From.Name != "Radiology North" {
				t.Fatalf("subject %q from %+v", g.Subject, g.From)
			}
			if crlf(g.Text) != crlf(m.Text) {
				t.Fatalf("text part:\n%s\nwant:\n%s", g.Text, m.Text)
			}
			for _, want := range []string{"042917", "Radiologie Süd &amp; Co &lt;Nord&gt;", "10 Minuten gültig"} {
				if !strings.Contains(g.HTML, want) {
					t.Fatalf("HTML part lacks %q:\n%s", want, g.HTML)
				}
			}
			if strings.Contains(g.HTML, "<Nord>") {
				t.Fatal("the department name is not escaped in the HTML part")
			}
			raw := srv.Raw(t, g.ID)
			for _, want := range []string{"multipart/alternative", "text/plain", "text/html", "Auto-Submitted: auto-generated"} {
				if !strings.Contains(raw, want) {
					t.Fatalf("raw message lacks %q", want)
				}
			}
			if strings.Index(raw, "text/plain") > strings.Index(raw, "text/html") {
				t.Fatal("the HTML part comes first: clients show the last alternative they understand")
			}
		})
	}
}

func TestSMTPRefusesDowngrades(t *testing.T) {
	plain := testsmtp.Start(t)
	// starttls is mandatory: a server without STARTTLS fails the send.
	s := &notify.SMTP{Host: plain.Host, Port: plain.Port, From: "noreply@example.org", TLS: "starttls"}
	if err := s.SendEmail(context.Background(), notify.EmailMessage{To: "a@example.org", Subject: "s", Text: "t"}); err == nil {
		t.Fatal("starttls mode sent without TLS")
	}
	// An untrusted certificate fails too.
	tlsSrv := testsmtp.Start(t, testsmtp.WithSTARTTLS())
	s = &notify.SMTP{Host: tlsSrv.Host, Port: tlsSrv.Port, From: "noreply@example.org", TLS: "starttls"}
	if err := s.SendEmail(context.Background(), notify.EmailMessage{To: "a@example.org", Subject: "s", Text: "t"}); err == nil {
		t.Fatal("an unknown certificate was trusted")
	}
	if n := len(plain.Messages(t)) + len(tlsSrv.Messages(t)); n != 0 {
		t.Fatalf("%d messages arrived", n)
	}
}

func TestSMTPErrorsHideAddressAndPassword(t *testing.T) {
	srv := testsmtp.Start(t)
	s := &notify.SMTP{Host: srv.Host, Port: srv.Port, From: "noreply@example.org", TLS: "none", Username: "u", Password: "hunter2-secret"}
	err := s.SendEmail(context.Background(), notify.EmailMessage{To: "not an address", Subject: "s", Text: "123456"})
	if err == nil {
		t.Fatal("a bad address was accepted")
	}
	for _, secret := range []string{"hunter2-secret", "123456", "not an address"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error %q shows %q", err, secret)
		}
	}
}

func crlf(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }

// The server requires AUTH: a wrong password or none fails the send.
func TestSMTPAuthIsChecked(t *testing.T) {
	srv := testsmtp.Start(t, testsmtp.WithSTARTTLS(), testsmtp.WithAuth("radpass", "right"))
	for _, pw := range []string{"wrong", ""} {
		s := &notify.SMTP{Host: srv.Host, Port: srv.Port, From: "noreply@example.org", TLS: "starttls",
			TLSConfig: &tls.Config{RootCAs: srv.RootCAs, ServerName: srv.Host}}
		if pw != "" {
			s.Username, s.Password = "radpass", pw
		}
		if err := s.SendEmail(context.Background(), notify.EmailMessage{To: "a@example.org", Subject: "s", Text: "t"}); err == nil {
			t.Fatalf("password %q: sent", pw)
		}
	}
	if n := len(srv.Messages(t)); n != 0 {
		t.Fatalf("%d messages arrived", n)
	}
}
