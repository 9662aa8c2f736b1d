package statusfw

import (
	"context"

	"github.com/gofiber/fiber/v3"
	"github.com/radpass/radpass/shared/database"
)

// revokeBucket withdraws a bucket for good; a live patient session ends at its
// next request (buckets.Service.Session).
var revokeBucket = bucketAction{
	name: "revoke", titleKey: "statusfw.revoke", doneKey: "statusfw.done.revoke", stateKey: "statusfw.error.revoked",
	run: func(ctx context.Context, h *Handlers, u *database.User, b *database.Bucket, ip string, in actionInput) (*database.Bucket, error) {
		return h.Buckets.Revoke(ctx, u, b.ID, ip, in.Reason)
	},
}

// RevokeForm is GET /staff/status/:id/revoke: the form of the action.
func (h *Handlers) RevokeForm(c fiber.Ctx) error { return h.actionForm(c, &revokeBucket) }

// Revoke is POST /staff/status/:id/revoke.
func (h *Handlers) Revoke(c fiber.Ctx) error { return h.actionSubmit(c, &revokeBucket) }
