package ingest

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

// BackfillBurnedIn reads Burned In Annotation from the stored file of every
// instance imported before the column existed (burned_in IS NULL) and
// stores it, with the SOP Class UID where the row has none. Until then such
// an instance counts as "may carry the patient's name" for anonymized
// buckets (buckets.LeftOut). A file that cannot be read keeps NULL (and so
// stays left out); it is not tried again in this run. It returns how many
// rows it updated.
func BackfillBurnedIn(ctx context.Context, db bun.IDB, blobs storage.Store) (int, error) {
	const batch = 200
	var after int64
	updated := 0
	for {
		var rows []struct {
			ID         int64  `bun:"id"`
			StorageKey string `bun:"storage_key"`
		}
		if err := db.NewRaw(`SELECT id, storage_key FROM instances WHERE burned_in IS NULL AND id > ? ORDER BY id LIMIT ?`,
			after, batch).Scan(ctx, &rows); err != nil {
			return updated, err
		}
		if len(rows) == 0 {
			return updated, nil
		}
		for _, r := range rows {
			after = r.ID
			m, err := readStoredMeta(ctx, blobs, r.StorageKey)
			if err != nil {
				if ctx.Err() != nil {
					return updated, ctx.Err()
				}
				continue
			}
			res, err := db.NewRaw(`UPDATE instances SET burned_in = ?,
				sop_class_uid = CASE WHEN sop_class_uid = '' THEN ? ELSE sop_class_uid END
				WHERE id = ? AND burned_in IS NULL`, m.BurnedIn, m.SOPClassUID, r.ID).Exec(ctx)
			if err != nil {
				return updated, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				updated++
			}
		}
	}
}

func readStoredMeta(ctx context.Context, blobs storage.Store, key string) (*dicom.Meta, error) {
	b, err := blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	m, err := dicom.ReadMeta(b, b.Size())
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("no header")
	}
	return m, nil
}
