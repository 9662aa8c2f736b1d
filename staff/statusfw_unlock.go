package staff

import (
	"context"

	"github.com/radpass/radpass/shared/store"
)

// unlockBucket reopens a blocked bucket and resets its failure counter.
var unlockBucket = bucketAction{
	name: "unlock", titleKey: "statusfw.unlock", doneKey: "statusfw.done.unlock", stateKey: "statusfw.error.notblocked",
	run: func(ctx context.Context, h *Handlers, u *store.User, b *store.Bucket, ip string, in actionInput) (*store.Bucket, error) {
		return h.Buckets.Unlock(ctx, u, b.ID, ip, in.Reason)
	},
}
