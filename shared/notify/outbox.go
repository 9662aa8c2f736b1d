package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Outbox is the dev-mode backend of both channels: messages are stored in
// PostgreSQL (table dev_outbox) instead of sent, so every server instance
// lists them at /dev/outbox. Only New in dev mode creates one.
type Outbox struct {
	DB bun.IDB
}

// OutboxMessage is one stored message.
type OutboxMessage struct {
	ID        int64     `bun:"id"`
	CreatedAt time.Time `bun:"created_at"`
	Channel   string    `bun:"channel"` // "sms" or "email"
	To        string    `bun:"destination"`
	Subject   string    `bun:"subject"` // e-mail only
	Text      string    `bun:"body_text"`
	HTML      string    `bun:"body_html"` // e-mail only
}

// Channel values.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// SendSMS stores an SMS.
func (o *Outbox) SendSMS(ctx context.Context, to, text string) error {
	return o.insert(ctx, OutboxMessage{Channel: ChannelSMS, To: to, Text: text})
}

// SendEmail stores an e-mail.
func (o *Outbox) SendEmail(ctx context.Context, m EmailMessage) error {
	return o.insert(ctx, OutboxMessage{Channel: ChannelEmail, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
}

func (o *Outbox) insert(ctx context.Context, m OutboxMessage) error {
	_, err := o.DB.NewRaw(`INSERT INTO dev_outbox (channel, destination, subject, body_text, body_html) VALUES (?, ?, ?, ?, ?)`,
		m.Channel, m.To, m.Subject, m.Text, m.HTML).Exec(ctx)
	if err != nil {
		return fmt.Errorf("dev outbox: %w", err)
	}
	return nil
}

// Recent returns the newest messages first, at most limit (1 to 1000).
func (o *Outbox) Recent(ctx context.Context, limit int) ([]OutboxMessage, error) {
	limit = min(max(limit, 1), 1000)
	var out []OutboxMessage
	err := o.DB.NewRaw(`SELECT id, created_at, channel, destination, subject, body_text, body_html
		FROM dev_outbox ORDER BY created_at DESC, id DESC LIMIT ?`, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("dev outbox: %w", err)
	}
	return out, nil
}
