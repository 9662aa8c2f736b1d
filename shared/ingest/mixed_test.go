package ingest_test

import (
	"context"
	"testing"

	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// TestImportMixedFolder: a folder with every transfer syntax, files without
// preamble or meta group and objects without pixel data (SR, RT structure
// set, waveform) is imported whole, every file reported added.
func TestImportMixedFolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _, im, _ := setup(t)
	dir := t.TempDir()
	id := dicomtest.Ident{PatientID: "MIX1", PatientName: "Mixed^Kinds", StudyUID: "1.2.826.0.1.78", SeriesUID: "1.2.826.0.1.78.1"}
	names := dicomtest.MixedFolder(t, dir, id)
	sum, err := im.ImportPaths(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sum.Rejected {
		t.Errorf("rejected %s: %s", r.Name, r.Reason)
	}
	if sum.Instances != len(names) {
		t.Fatalf("%d instances added, want %d: %+v", sum.Instances, len(names), sum)
	}
	var n int
	if err := db.NewRaw(`SELECT count(*) FROM instances i JOIN series se ON se.id = i.series_id
		JOIN studies st ON st.id = se.study_id WHERE st.study_uid = ?`, id.StudyUID).Scan(ctx, &n); err != nil {
		t.Fatal(err)
	}
	if n != len(names) {
		t.Fatalf("%d instances stored in the study, want %d", n, len(names))
	}
}
