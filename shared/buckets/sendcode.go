package buckets

import (
	"context"

	"github.com/radpass/radpass/shared/notify"
)

// Notifier sends a one-time password through a channel ("sms" or "email")
// in the bucket's language. Implemented over shared/notify by the server.
type Notifier interface {
	SendOTP(ctx context.Context, channel, to, lang, code, department string) error
}

// SendError is a code that was issued but whose message did not go out
// (Send), or went out but was not recorded (Record, with Send nil).
type SendError struct {
	Channel string
	Send    error
	Record  error
}

func (e *SendError) Error() string {
	if e.Send != nil {
		return "code not sent: " + e.Send.Error()
	}
	return "code send not recorded: " + e.Record.Error()
}

// Unwrap gives the send error, else the recording one.
func (e *SendError) Unwrap() error {
	if e.Send != nil {
		return e.Send
	}
	return e.Record
}

// Sent reports whether the message went out.
func (e *SendError) Sent() bool { return e.Send == nil }

// SendCode issues a new code for bucket id (IssueOTP: its limits and
// errors), sends it through n to the destination on file, and records
// whether it went out (SendDone: a failed send leaves no usable code). A
// failure after the code was issued is a *SendError.
func (s *Service) SendCode(ctx context.Context, n Notifier, id int64, ip string) error {
	code, err := s.IssueOTP(ctx, id, ip)
	if err != nil {
		return err
	}
	sendErr := n.SendOTP(notify.WithSender(ctx, code.Sender), code.Channel, code.Destination, code.Language, code.Plain, code.Department)
	recErr := s.SendDone(ctx, code, id, ip, sendErr)
	if sendErr != nil || recErr != nil {
		return &SendError{Channel: code.Channel, Send: sendErr, Record: recErr}
	}
	return nil
}
