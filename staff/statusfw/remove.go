package statusfw

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v3"
	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// removeStudy takes one study out of a bucket (never the last: revoke).
var removeStudy = bucketAction{
	name: "remove", titleKey: "statusfw.remove", doneKey: "statusfw.done.remove", stateKey: "statusfw.error.laststudy",
	run: func(ctx context.Context, h *Handlers, u *database.User, b *database.Bucket, ip string, in actionInput) (*database.Bucket, error) {
		id, err := strconv.ParseInt(in.Study, 10, 64)
		if err != nil || id <= 0 {
			return nil, apperr.Field("study", "statusfw.error.study")
		}
		out, err := h.Buckets.RemoveStudy(ctx, u, b.ID, id, ip, in.Reason)
		if err == buckets.ErrNotFound {
			// The bucket was checked visible before: the study is not in it.
			return nil, apperr.Field("study", "statusfw.error.study")
		}
		return out, err
	},
}

// RemoveStudyForm is GET /staff/status/:id/remove: the form of the action.
func (h *Handlers) RemoveStudyForm(c fiber.Ctx) error { return h.actionForm(c, &removeStudy) }

// RemoveStudy is POST /staff/status/:id/remove.
func (h *Handlers) RemoveStudy(c fiber.Ctx) error { return h.actionSubmit(c, &removeStudy) }
