package web

import (
	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/utils/v2"
)

// localClientRequestID holds the X-Request-Id the client sent, if any.
const localClientRequestID = "radpass.client_request_id"

// RequestID gives every request an id made here (c.RequestID() returns it,
// and the response carries it in X-Request-Id). An X-Request-Id the client
// sent is never taken as ours: anyone could make log lines look like
// another request's. It is kept apart (ClientRequestID) for the access log.
func RequestID() fiber.Handler {
	return func(c fiber.Ctx) error {
		if v := c.Get(fiber.HeaderXRequestID); v != "" {
			c.Locals(localClientRequestID, printableASCII(v, 128))
		}
		c.Set(fiber.HeaderXRequestID, utils.SecureToken())
		return c.Next()
	}
}

// ClientRequestID is the X-Request-Id the client sent (cut to printable
// ASCII, at most 128 bytes), "" when it sent none.
func ClientRequestID(c fiber.Ctx) string {
	v, _ := c.Locals(localClientRequestID).(string)
	return v
}

func printableASCII(s string, maxLen int) string {
	b := make([]byte, 0, min(len(s), maxLen))
	for i := 0; i < len(s) && len(b) < maxLen; i++ {
		if s[i] >= 0x20 && s[i] < 0x7f {
			b = append(b, s[i])
		}
	}
	return string(b)
}
