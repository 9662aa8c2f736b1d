package dicom_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// Synth's RLE Lossless is the standard's: dcmtk's dcmdrle decompresses it
// to the same samples as the same instance written native, for 8 and 16
// bits, an odd width, runs longer than 128 and literal stretches.
func TestSynthRLEDecodesWithDcmtk(t *testing.T) {
	t.Parallel()
	testtool.Need(t, "dcmdrle")
	for _, bits := range []int{8, 16} {
		pixel := func(f, i, _ int) int {
			r, c := i/131, i%131
			switch {
			case r < 3:
				return 7 // one run longer than 128 per row
			case c%5 == 0:
				return (r*c + f) & (1<<bits - 1) // literal stretches
			}
			return (r/4*300 + f) & (1<<bits - 1)
		}
		syn := rd.Synth{StudyUID: "2.25.71", SeriesUID: "2.25.72", SOPUID: "2.25.73", PatientID: "RLE", Modality: "CT",
			Rows: 40, Cols: 131, Frames: 2, BitsAllocated: bits, Pixel: pixel}
		native, err := syn.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		syn.TransferSyntax = rd.TSRLE
		rle, err := syn.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if len(rle) >= len(native) {
			t.Errorf("%d bits: RLE file %d bytes, native %d", bits, len(rle), len(native))
		}
		dir := t.TempDir()
		in, out := filepath.Join(dir, "rle.dcm"), filepath.Join(dir, "out.dcm")
		if err := os.WriteFile(in, rle, 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command("dcmdrle", in, out).CombinedOutput(); err != nil {
			t.Fatalf("%d bits: dcmdrle: %v\n%s", bits, err, b)
		}
		decoded, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for f := 0; f < 2; f++ {
			want := samples(t, native, f)
			if got := samples(t, decoded, f); !slices.Equal(got, want) {
				t.Fatalf("%d bits frame %d: dcmtk decodes other samples", bits, f)
			}
			if got := samples(t, rle, f); !slices.Equal(got, want) {
				t.Fatalf("%d bits frame %d: our decoder reads other samples", bits, f)
			}
		}
	}
}

func samples(t *testing.T, file []byte, f int) []int {
	t.Helper()
	im, err := rd.Decode(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := im.Samples(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
