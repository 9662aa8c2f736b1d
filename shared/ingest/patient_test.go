package ingest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/ingest"
)

// An instance that names a known study but another patient is misfiled: it
// is refused, so it never shows up in the first patient's letters or viewer.
func TestInstanceOfAnotherPatientRejected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, st, im, _ := setup(t)
	synth := func(sop, patient string) []byte {
		b, err := dicom.Synth{StudyUID: "2.25.7001", SeriesUID: "2.25.7002", SOPUID: sop, PatientID: patient,
			Rows: 2, Cols: 2, BitsAllocated: 8, Pixel: func(_, i, _ int) int { return i }}.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if r := im.Import(ctx, "a.dcm", bytes.NewReader(synth("2.25.7003", "PAT-A"))); r.Outcome != ingest.Added {
		t.Fatalf("first instance: %+v", r)
	}
	if r := im.Import(ctx, "b.dcm", bytes.NewReader(synth("2.25.7004", "PAT-A"))); r.Outcome != ingest.Added {
		t.Fatalf("second instance of the same patient: %+v", r)
	}
	r := im.Import(ctx, "c.dcm", bytes.NewReader(synth("2.25.7005", "PAT-B")))
	if r.Outcome != ingest.Rejected || r.Code != ingest.ReasonMismatch {
		t.Fatalf("instance of another patient in the same study: %+v", r)
	}
	if n := count(t, db, "instances"); n != 2 {
		t.Fatalf("%d instances stored, want 2", n)
	}
	if n := count(t, db, "patients"); n != 1 {
		t.Fatalf("%d patients stored, want 1 (the refused file's patient must not stay behind)", n)
	}
	if n := storedFiles(t, st); n != 2 {
		t.Fatalf("%d files stored, want 2", n)
	}
}
