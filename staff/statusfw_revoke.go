package staff

import (
	"context"

	"github.com/radpass/radpass/shared/store"
)

// sfRevoke withdraws a bucket for good; a live patient session ends at its
// next request (buckets.Service.Session).
var sfRevoke = sfAction{
	name: "revoke", titleKey: "statusfw.revoke", doneKey: "statusfw.done.revoke", stateKey: "statusfw.error.revoked",
	allowed: func(state string) bool { return state != store.BucketRevoked },
	run: func(ctx context.Context, h *Handlers, u *store.User, b *store.Bucket, ip string, in sfInput) (*store.Bucket, error) {
		return h.Buckets.Revoke(ctx, u, b.ID, ip, in.Reason)
	},
}
