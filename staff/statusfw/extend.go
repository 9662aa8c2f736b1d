package statusfw

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/database"
)

// extendBucket moves the validity date, never past the department maximum
// (buckets.ValidDate, checked in the domain's transaction).
var extendBucket = bucketAction{
	name: "extend", titleKey: "statusfw.extend", doneKey: "statusfw.done.extend", stateKey: "statusfw.error.revoked",
	run: func(ctx context.Context, h *Handlers, u *database.User, b *database.Bucket, ip string, in actionInput) (*database.Bucket, error) {
		until, err := time.Parse(time.DateOnly, in.Until)
		if err != nil {
			return nil, apperr.Field("valid_until", "statusfw.error.date")
		}
		return h.Buckets.Extend(ctx, u, b.ID, ip, in.Reason, until)
	},
}

// ExtendForm is GET /staff/status/:id/extend: the form of the action.
func (h *Handlers) ExtendForm(c fiber.Ctx) error { return h.actionForm(c, &extendBucket) }

// Extend is POST /staff/status/:id/extend.
func (h *Handlers) Extend(c fiber.Ctx) error { return h.actionSubmit(c, &extendBucket) }
