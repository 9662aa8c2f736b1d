package dicom_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
)

// FuzzParse feeds arbitrary bytes to the parse wrapper and the renderer: they
// may refuse the input, never panic or hang. scripts/fuzz.sh runs it briefly.
func FuzzParse(f *testing.F) {
	dir, err := rd.SampleDir()
	if err != nil {
		f.Fatal(err)
	}
	// Small seeds only: minimising a 65 KB input takes the whole fuzz budget.
	for _, n := range []string{"6.dcm"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	syn, err := rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "X", CharSet: "ISO_IR 100",
		PatientName: "M\xfcller^Anna", Rows: 4, Cols: 4, BitsAllocated: 16, Signed: true, Pixel: func(_, i, _ int) int { return i - 8 }}.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(syn)
	rgb, err := rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.5", PatientID: "Y", CharSet: "ISO_IR 192", PatientName: "Łukasik^Zoë",
		Rows: 3, Cols: 3, Frames: 2, BitsAllocated: 8, SamplesPerPixel: 3, Planar: 1, Photometric: "RGB", Pixel: func(f, i, s int) int { return f + i + s }}.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rgb)
	f.Add([]byte("DICM"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err == nil && m.SOPInstanceUID == "" {
			t.Fatal("accepted without a SOP Instance UID")
		}
		im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for fr := 0; fr < im.Frames() && fr < 2; fr++ {
			_, _ = im.Render(rd.Options{Frame: fr, Size: 32})
		}
	})
}
