package server

import (
	"net/http"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/notify"
	"github.com/radpass/radpass/shared/web"
)

// devOutboxLimit is how many messages the dev outbox page lists.
const devOutboxLimit = 50

// devOutbox is GET /dev/outbox: the SMS and e-mails that the dev outbox
// kept instead of sending (notify.Outbox), newest first, one-time passwords
// included. Dev mode only: the route table mounts it only when cfg.Dev, so
// outside dev mode the route does not exist (404).
func devOutbox(db bun.IDB) fiber.Handler {
	outbox := &notify.Outbox{DB: db}
	return func(c fiber.Ctx) error {
		msgs, err := outbox.Recent(c.Context(), devOutboxLimit)
		if err != nil {
			return err
		}
		p := web.NewPage(c, "devoutbox.title", struct{ Messages []notify.OutboxMessage }{msgs})
		p.Layout = "layouts/patient"
		return web.Render(c, http.StatusOK, "dev/outbox", p)
	}
}
