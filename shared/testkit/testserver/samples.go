package testserver

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
	"github.com/radpass/radpass/shared/storage"
)

// MustImportSamples imports the six real DICOM samples of the
// suyashkumar/dicom module into dept (the server's own storage) and returns
// the id of the study whose instance has two frames (a CT).
func (s *Server) MustImportSamples(tb testing.TB, dept *database.Department) (ctStudy int64) {
	tb.Helper()
	ctx := context.Background()
	st, err := storage.NewFS(filepath.Join(s.Config.DataDir, "dicom"))
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := dicom.SampleDir()
	if err != nil {
		tb.Fatal(err)
	}
	im := &ingest.Importer{DB: s.DB, Store: st, DepartmentID: dept.ID}
	var paths []string
	for _, n := range dicom.SampleFiles {
		paths = append(paths, filepath.Join(dir, n))
	}
	sum, err := im.ImportPaths(ctx, paths, nil)
	if err != nil || sum.Instances != len(dicom.SampleFiles) {
		tb.Fatalf("sample import: %+v %v", sum, err)
	}
	if err := s.DB.NewRaw(`SELECT st.id FROM studies st JOIN series se ON se.study_id = st.id JOIN instances i ON i.series_id = se.id
		WHERE st.department_id = ? AND i.frames = 2`, dept.ID).Scan(ctx, &ctStudy); err != nil {
		tb.Fatal(err)
	}
	return ctStudy
}

// MustImportStudy imports the files at paths (every one an instance) into
// dept through the server's own storage and returns the id of the study
// studyUID they make up.
func (s *Server) MustImportStudy(tb testing.TB, dept *database.Department, paths []string, studyUID string) int64 {
	tb.Helper()
	ctx := context.Background()
	st, err := storage.NewFS(filepath.Join(s.Config.DataDir, "dicom"))
	if err != nil {
		tb.Fatal(err)
	}
	im := &ingest.Importer{DB: s.DB, Store: st, DepartmentID: dept.ID}
	if sum, err := im.ImportPaths(ctx, paths, nil); err != nil || sum.Instances != len(paths) {
		tb.Fatalf("import: %+v %v", sum, err)
	}
	var id int64
	if err := s.DB.NewRaw(`SELECT id FROM studies WHERE study_uid = ?`, studyUID).Scan(ctx, &id); err != nil {
		tb.Fatal(err)
	}
	return id
}
