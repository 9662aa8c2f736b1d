package storage

import (
	"context"
	"net/http"
	"time"

	"github.com/radpass/radpass/shared/config"
)

// Open is the store the configuration names: the S3 bucket when
// RADPASS_S3_BUCKET is set, else the local folder dir. transport (nil: Go's
// default) carries the S3 requests: metrics.S3Hook.Transport counts them.
func Open(ctx context.Context, c config.Storage, dir string, transport http.RoundTripper) (Store, error) {
	if !c.S3() {
		return NewFS(dir)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return NewS3(ctx, S3Options{Endpoint: c.S3Endpoint, Bucket: c.S3Bucket, Region: c.S3Region, Transport: transport})
}
