package testserver

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/storage"
)

// MustStoredInstance puts data (a DICOM file) in the server's own storage
// and adds it to study as a one-instance series of its own, as an import
// would list it. It returns the instance and series ids.
func (s *Server) MustStoredInstance(tb testing.TB, study *database.Study, data []byte, frames int) (instance, series int64) {
	tb.Helper()
	ctx := context.Background()
	st, err := storage.NewFS(filepath.Join(s.Config.DataDir, "dicom"))
	if err != nil {
		tb.Fatal(err)
	}
	key, size, _, err := st.Put(ctx, bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	uid := "2.25." + randDigits()
	if err := s.DB.NewRaw(`INSERT INTO series (study_id, series_uid, modality, num_instances) VALUES (?, ?, 'CR', 1) RETURNING id`,
		study.ID, uid).Scan(ctx, &series); err != nil {
		tb.Fatal(err)
	}
	if err := s.DB.NewRaw(`INSERT INTO instances (series_id, sop_uid, sop_class_uid, storage_key, size_bytes, frames) VALUES (?, ?, '1.2.840.10008.5.1.4.1.1.1', ?, ?, ?) RETURNING id`,
		series, uid+".1", key, size, max(frames, 1)).Scan(ctx, &instance); err != nil {
		tb.Fatal(err)
	}
	return instance, series
}

// ServerTimeouts gives every new connection to the server's database the
// statement, lock and idle-in-transaction timeouts `radpass serve` runs
// with (database.RequestTimeouts), and drops the idle connections made without
// them, so a test meets what production meets (a lock wait past 5 s fails
// with SQLSTATE 55P03).
func (s *Server) ServerTimeouts(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	var name string
	if err := s.DB.NewRaw(`SELECT current_database()`).Scan(ctx, &name); err != nil {
		tb.Fatal(err)
	}
	for setting, v := range map[string]int64{
		"statement_timeout":                   database.StatementTimeout.Milliseconds(),
		"lock_timeout":                        database.LockTimeout.Milliseconds(),
		"idle_in_transaction_session_timeout": database.IdleInTransactionTimeout.Milliseconds(),
	} {
		if _, err := s.DB.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %q SET %s = %d`, name, setting, v)); err != nil {
			tb.Fatal(err)
		}
	}
	s.DB.SetMaxIdleConns(0)
	s.DB.SetMaxIdleConns(16)
	var lock string
	if err := s.DB.NewRaw(`SHOW lock_timeout`).Scan(ctx, &lock); err != nil || lock != database.LockTimeout.String() {
		tb.Fatalf("lock_timeout %q (%v), want %v", lock, err, database.LockTimeout)
	}
}
