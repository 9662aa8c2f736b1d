package staff

import (
	"context"

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
