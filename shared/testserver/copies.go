package testserver

import (
	"context"
	"testing"
)

// MustCopyInstances gives every series of study n more instances, copies
// of its stored ones (same file, new UIDs and numbers), and updates the
// counts, so a viewer test has a series to browse (slider, previous/next).
func (s *Server) MustCopyInstances(tb testing.TB, study int64, n int) {
	tb.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO instances (series_id, sop_uid, sop_class_uid, number, rows, columns, frames,
			transfer_syntax, bits_allocated, bits_stored, photometric, window_center, window_width, storage_key, size_bytes)
		SELECT i.series_id, i.sop_uid || '.' || g, i.sop_class_uid, coalesce(i.number, 0) + g, i.rows, i.columns, i.frames,
			i.transfer_syntax, i.bits_allocated, i.bits_stored, i.photometric, i.window_center, i.window_width, i.storage_key, i.size_bytes
		FROM instances i JOIN series se ON se.id = i.series_id, generate_series(1, ?1) g WHERE se.study_id = ?0`,
		`UPDATE series SET num_instances = (SELECT count(*) FROM instances WHERE series_id = series.id) WHERE study_id = ?0`,
		`UPDATE studies SET num_instances = (SELECT sum(num_instances) FROM series WHERE study_id = studies.id) WHERE id = ?0`,
	} {
		if _, err := s.DB.ExecContext(ctx, q, study, n); err != nil {
			tb.Fatal(err)
		}
	}
}
