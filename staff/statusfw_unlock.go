package staff

import (
	"context"

	"github.com/radpass/radpass/shared/store"
)

// sfUnlock reopens a blocked bucket and resets its failure counter.
var sfUnlock = sfAction{
	name: "unlock", titleKey: "statusfw.unlock", doneKey: "statusfw.done.unlock", stateKey: "statusfw.error.notblocked",
	allowed: func(state string) bool { return state == store.BucketBlocked },
	run: func(ctx context.Context, h *Handlers, u *store.User, b *store.Bucket, ip string, in sfInput) (*store.Bucket, error) {
		return h.Buckets.Unlock(ctx, u, b.ID, ip, in.Reason)
	},
}
