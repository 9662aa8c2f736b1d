package metrics

import (
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// localUnmatched marks a request no route of the table answered.
const localUnmatched = "metrics.unmatched"

// Unmatched marks the request as answered by the catch-all (404), so it is
// counted under route "unmatched", not under the prefix of the last
// middleware it passed.
func Unmatched(c fiber.Ctx) { c.Locals(localUnmatched, true) }

// Middleware counts every request by method, route pattern (the route
// table's path, e.g. /staff/print/:id<int>, never the URL itself: the label
// values stay few) and status, and observes its latency. Mount it first.
func (m *Metrics) Middleware() fiber.Handler {
	return func(c fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = web.StatusOf(err) // the error handler runs after us
		}
		route := c.Route().Path
		if u, _ := c.Locals(localUnmatched).(bool); u {
			route = "unmatched"
		}
		m.Request(c.Method(), route, status, time.Since(start))
		return err
	}
}
