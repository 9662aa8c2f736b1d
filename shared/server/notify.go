package server

import (
	"context"
	"errors"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/config"
)

// errNoSender: no SMS or e-mail backend is configured.
var errNoSender = errors.New("no message backend configured")

// otpNotifier sends one-time passwords (wired to shared/notify).
type otpNotifier struct{}

func newOTPNotifier(cfg *config.Config, db *bun.DB, log *slog.Logger) *otpNotifier {
	return &otpNotifier{}
}

func (n *otpNotifier) SendOTP(ctx context.Context, channel, to, lang, code, dept string) error {
	return errNoSender
}
