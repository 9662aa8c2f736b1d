package staff

import (
	"context"
	"time"

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
