// Package notify sends the SMS and e-mails of RadPass (one-time passwords)
// behind two small interfaces, with three backends: Vonage's SMS API, SMTP
// (github.com/wneessen/go-mail), and, in dev mode when those are not
// configured, a dev outbox in PostgreSQL shown at /dev/outbox.
//
// Nothing here logs a message's text: it carries the code.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/metrics"
)

// SMS sends one text message to an E.164 number ("+32470123456").
type SMS interface {
	SendSMS(ctx context.Context, to, text string) error
}

// Email sends one e-mail.
type Email interface {
	SendEmail(ctx context.Context, m EmailMessage) error
}

// EmailMessage is one e-mail: a plain-text part and, when HTML is not empty,
// an HTML alternative of the same content.
type EmailMessage struct {
	To      string // one address
	Subject string
	Text    string
	HTML    string
}

// ErrNotConfigured is returned by a channel that has no backend: outside dev
// mode, Vonage or SMTP is not configured.
var ErrNotConfigured = errors.New("notify: channel not configured")

// Notifier is both channels of one server, chosen from the configuration by
// New. It is an SMS and an Email itself.
type Notifier struct {
	SMS   SMS
	Email Email
	// Outbox is the dev outbox when at least one channel writes to it, else nil.
	Outbox *Outbox
	// Metrics counts one-time password sends by channel and outcome (nil: off).
	Metrics *metrics.Metrics
}

// New picks the backends: Vonage when RADPASS_VONAGE_API_KEY is set, SMTP
// when RADPASS_SMTP_HOST is set; otherwise the dev outbox in dev mode, or a
// backend that fails with ErrNotConfigured.
func New(cfg *config.Config, db bun.IDB) *Notifier {
	n := &Notifier{}
	nc := cfg.Notify
	var outbox *Outbox
	if cfg.Dev {
		outbox = &Outbox{DB: db}
	}
	switch {
	case nc.SMSConfigured():
		n.SMS = &Vonage{BaseURL: nc.VonageBaseURL, APIKey: nc.VonageAPIKey, APISecret: nc.VonageAPISecret, From: nc.SMSFrom}
	case outbox != nil:
		n.SMS, n.Outbox = outbox, outbox
	default:
		n.SMS = unconfigured{"SMS", "RADPASS_VONAGE_API_KEY"}
	}
	switch {
	case nc.EmailConfigured():
		n.Email = &SMTP{Host: nc.SMTPHost, Port: nc.SMTPPort, Username: nc.SMTPUsername, Password: nc.SMTPPassword,
			From: nc.SMTPFrom, TLS: nc.SMTPTLS}
	case outbox != nil:
		n.Email, n.Outbox = outbox, outbox
	default:
		n.Email = unconfigured{"e-mail", "RADPASS_SMTP_HOST"}
	}
	return n
}

// SendSMS sends through the SMS backend.
func (n *Notifier) SendSMS(ctx context.Context, to, text string) error {
	return n.SMS.SendSMS(ctx, to, text)
}

// SendEmail sends through the e-mail backend.
func (n *Notifier) SendEmail(ctx context.Context, m EmailMessage) error {
	return n.Email.SendEmail(ctx, m)
}

// SendOTP writes the one-time-password message in lang (OTPMessages) and
// sends it on channel: ChannelSMS to the E.164 number to, ChannelEmail to the
// address to. The caller has checked the destination (the one on file;
// SMSAllowed for SMS), the cooldown and the daily cap.
func (n *Notifier) SendOTP(ctx context.Context, channel, to, lang, code, departmentName string) error {
	err := n.sendOTP(ctx, channel, to, lang, code, departmentName)
	n.Metrics.OTPSend(channel, err)
	return err
}

func (n *Notifier) sendOTP(ctx context.Context, channel, to, lang, code, departmentName string) error {
	sms, mail := OTPMessages(lang, code, departmentName)
	switch channel {
	case ChannelSMS:
		return n.SendSMS(ctx, to, sms)
	case ChannelEmail:
		mail.To = to
		return n.SendEmail(ctx, mail)
	}
	return fmt.Errorf("notify: unknown channel %q", channel)
}

// LogStatus says at start where messages go: a warning per channel that
// cannot send, an info line when the dev outbox receives them.
func (n *Notifier) LogStatus(log *slog.Logger) {
	for _, ch := range []any{n.SMS, n.Email} {
		if u, ok := ch.(unconfigured); ok {
			log.Warn("notify: "+u.channel+" is not configured; one-time passwords by "+u.channel+" cannot be sent", "set", u.variable)
		}
	}
	if n.Outbox != nil {
		_, sms := n.SMS.(*Outbox)
		_, email := n.Email.(*Outbox)
		log.Info("notify: dev mode without Vonage/SMTP: messages land in the dev outbox at /dev/outbox", "sms", sms, "email", email)
	}
}

type unconfigured struct{ channel, variable string }

func (u unconfigured) SendSMS(context.Context, string, string) error {
	return fmt.Errorf("%w: %s (set %s)", ErrNotConfigured, u.channel, u.variable)
}

func (u unconfigured) SendEmail(context.Context, EmailMessage) error {
	return fmt.Errorf("%w: %s (set %s)", ErrNotConfigured, u.channel, u.variable)
}

type senderKey struct{}

// WithSender names the SMS sender for the sends under ctx (a department's
// own sender id); without it the configured RADPASS_SMS_FROM is used.
func WithSender(ctx context.Context, sender string) context.Context {
	if sender == "" {
		return ctx
	}
	return context.WithValue(ctx, senderKey{}, sender)
}

func senderOf(ctx context.Context, fallback string) string {
	if s, ok := ctx.Value(senderKey{}).(string); ok && s != "" {
		return s
	}
	return fallback
}
