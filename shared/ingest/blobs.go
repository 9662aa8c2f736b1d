package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/storage"
)

// Stored files are content-addressed and shared: identical bytes imported
// twice, or by two departments, are one file that several rows point at
// (instances.storage_key, studies.report_pdf_key). A file is removed only
// when no row points at it, under a transaction-level advisory lock on its
// key that every writer of a row naming the key takes too (lockBlob), so a
// removal and a new reference never interleave.

// errBlobGone: the file a row was about to name was removed meanwhile.
var errBlobGone = errors.New("the stored file was removed meanwhile")

// lockBlob takes the advisory lock of key until the transaction ends, then
// checks that the file is still there (a writer must not name a removed file).
func lockBlob(ctx context.Context, tx bun.Tx, st storage.Store, key string) error {
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "blob:"+key); err != nil {
		return err
	}
	b, err := st.Open(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return errBlobGone
	}
	if err != nil {
		return err
	}
	return b.Close()
}

// blobReferenced reports whether any row names key.
func blobReferenced(ctx context.Context, db bun.IDB, key string) (bool, error) {
	var used bool
	err := db.NewRaw(`SELECT EXISTS (SELECT 1 FROM instances WHERE storage_key = ?0)
		OR EXISTS (SELECT 1 FROM studies WHERE report_pdf_key = ?0)`, key).Scan(ctx, &used)
	return used, err
}

// DeleteUnreferenced removes the stored file of key unless a row names it.
// With minAge > 0 it also keeps a file written (or put again) less than
// minAge ago: one whose row may be about to be written. It reports whether
// the file was removed.
func DeleteUnreferenced(ctx context.Context, db *bun.DB, st storage.Store, key string, minAge time.Duration) (bool, error) {
	if key == "" {
		return false, nil
	}
	ctx = context.WithoutCancel(ctx) // a half-done cleanup is worse than a slow one
	deleted := false
	err := database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "blob:"+key); err != nil {
			return err
		}
		used, err := blobReferenced(ctx, tx, key)
		if err != nil || used {
			return err
		}
		if minAge > 0 {
			l, ok := st.(storage.Lister)
			if !ok {
				return nil
			}
			mod, err := l.ModTime(ctx, key)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			if err != nil || time.Since(mod) < minAge {
				return err
			}
		}
		if err := st.Delete(ctx, key); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	return deleted, err
}

// OrphanGrace is how old an unreferenced file must be before the sweep
// removes it: an import writes the file first and its row a moment later.
const OrphanGrace = 24 * time.Hour

// SweepOrphans removes stored files that no row names and that are older
// than grace: files of a crash between the copy and the row, and replaced
// report PDFs whose removal failed (AttachReport removes them best effort).
// It returns how many it removed. Files are checked in batches with one query each.
func SweepOrphans(ctx context.Context, db *bun.DB, st storage.Lister, grace time.Duration) (int, error) {
	const batch = 500
	removed := 0
	var keys []string
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		var orphans []string
		err := db.NewRaw(`SELECT k FROM unnest(?::text[]) AS k
			WHERE NOT EXISTS (SELECT 1 FROM instances WHERE storage_key = k)
			  AND NOT EXISTS (SELECT 1 FROM studies WHERE report_pdf_key = k)`, pgdialect.Array(keys)).Scan(ctx, &orphans)
		keys = keys[:0]
		if err != nil {
			return err
		}
		for _, k := range orphans {
			ok, err := DeleteUnreferenced(ctx, db, st, k, grace)
			if err != nil {
				return fmt.Errorf("remove orphan %s: %w", k, err)
			}
			if ok {
				removed++
			}
		}
		return nil
	}
	cutoff := time.Now().Add(-grace)
	err := st.Walk(ctx, func(key string, mod time.Time) error {
		if mod.After(cutoff) {
			return nil
		}
		keys = append(keys, key)
		if len(keys) == batch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return removed, err
}
