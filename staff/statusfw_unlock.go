package staff

import (
	"context"

	"github.com/radpass/radpass/shared/database"
)

// unlockBucket reopens a blocked bucket and resets its failure counter.
var unlockBucket = bucketAction{
	name: "unlock", titleKey: "statusfw.unlock", doneKey: "statusfw.done.unlock", stateKey: "statusfw.error.notblocked",
	run: func(ctx context.Context, h *Handlers, u *database.User, b *database.Bucket, ip string, in actionInput) (*database.Bucket, error) {
		return h.Buckets.Unlock(ctx, u, b.ID, ip, in.Reason)
	},
}
