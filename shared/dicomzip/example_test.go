package dicomzip_test

import (
	"context"
	"io"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicomzip"
	"github.com/radpass/radpass/shared/storage"
)

// A download handler loads the bucket's studies (with their Patient), series
// and instances, sorted as they should appear (series number, instance
// number), and streams the archive into the response body.
func ExampleWrite() {
	var (
		ctx    = context.Background()
		w      io.Writer         // the response body
		blobs  storage.Store     // the file store
		study  *database.Study   // loaded with Relation("Patient")
		series []database.Series // of that study
		inst   map[int64][]database.Instance
	)
	var items []dicomzip.Item
	for i := range series {
		for j := range inst[series[i].ID] {
			items = append(items, dicomzip.StoreItem(study, &series[i], &inst[series[i].ID][j], blobs))
		}
	}
	// For an anonymized bucket: Anonymize: true, Number: bucket.AnonNumber.
	_ = dicomzip.Write(ctx, w, items, dicomzip.Options{Lang: "nl"})
}
