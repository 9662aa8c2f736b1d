package statusfw

import (
	"context"

	"github.com/gofiber/fiber/v3"
	"github.com/radpass/radpass/shared/database"
)

// unlockBucket reopens a blocked bucket and resets its failure counter.
var unlockBucket = bucketAction{
	name: "unlock", titleKey: "statusfw.unlock", doneKey: "statusfw.done.unlock", stateKey: "statusfw.error.notblocked",
	run: func(ctx context.Context, h *Handlers, u *database.User, b *database.Bucket, ip string, in actionInput) (*database.Bucket, error) {
		return h.Buckets.Unlock(ctx, u, b.ID, ip, in.Reason)
	},
}

// UnlockForm is GET /staff/status/:id/unlock: the form of the action.
func (h *Handlers) UnlockForm(c fiber.Ctx) error { return h.actionForm(c, &unlockBucket) }

// Unlock is POST /staff/status/:id/unlock.
func (h *Handlers) Unlock(c fiber.Ctx) error { return h.actionSubmit(c, &unlockBucket) }
