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

// MustMoveTallSeries moves the series of the tall sample radiograph (the
// CR, 1760×2140) into study and returns its id: a viewer test then has a
// picture that is not square.
func (s *Server) MustMoveTallSeries(tb testing.TB, study int64) (seriesID int64) {
	tb.Helper()
	ctx := context.Background()
	if err := s.DB.NewRaw(`UPDATE series SET study_id = ? WHERE id = (SELECT series_id FROM instances WHERE rows = 2140 AND columns = 1760 LIMIT 1) RETURNING id`, study).Scan(ctx, &seriesID); err != nil {
		tb.Fatal(err)
	}
	return seriesID
}
