package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/radpass/radpass/shared/letter"
)

// SMTP sends e-mail through an SMTP server as multipart/alternative: the
// plain-text part first, the HTML part second.
type SMTP struct {
	Host     string
	Port     int
	Username string // empty: no AUTH
	Password string
	From     string // "noreply@example.org" or "Radiology <noreply@example.org>"
	// TLS is "starttls" (STARTTLS required, never a fallback to plain text),
	// "tls" (implicit TLS) or "none".
	TLS string
	// TLSConfig overrides the TLS settings (tests trust their own CA with
	// it); nil verifies the server against the system roots.
	TLSConfig *tls.Config
	Timeout   time.Duration // per connection; 0: 15 s
}

// SendEmail sends m. A server that offers no STARTTLS in "starttls" mode
// fails the send; so does PLAIN AUTH over an unencrypted connection, except
// on loopback.
func (s *SMTP) SendEmail(ctx context.Context, m EmailMessage) error {
	masked := letter.MaskEmail(m.To)
	msg := mail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("smtp: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtp: %s is not an e-mail address", masked)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	// Automatic mail: no out-of-office replies to it (RFC 3834).
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(timeout)}
	switch s.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(s.TLSConfig))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s:%d: sending to %s: %w", s.Host, s.Port, masked, err)
	}
	return nil
}
