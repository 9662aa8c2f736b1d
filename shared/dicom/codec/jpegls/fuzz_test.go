package jpegls_test

import (
	"bytes"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/codec/jpegls"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

func seed(f *testing.F, spp int) []byte {
	s := rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "F", Rows: 12, Cols: 16,
		BitsAllocated: 8, SamplesPerPixel: spp, Photometric: map[int]string{1: "MONOCHROME2", 3: "RGB"}[spp],
		Pixel: func(_, i, s int) int { return (i*i*7 + s*40) % 256 }}
	in, err := s.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	b := dicomtest.Convert(f, in, "dcmcjpls")
	im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		f.Fatal(err)
	}
	fr, ok := im.EncodedFrame(0)
	if !ok {
		f.Fatal("not encapsulated")
	}
	return fr
}

// FuzzDecode: arbitrary codestreams are refused or decoded to exactly the
// size the header asks for; the C library must not crash the process.
func FuzzDecode(f *testing.F) {
	if !jpegls.Available {
		f.Skip("built without cgo")
	}
	f.Add(seed(f, 1), uint8(12), uint8(16), false)
	f.Add(seed(f, 3), uint8(12), uint8(16), true)
	f.Fuzz(func(t *testing.T, b []byte, rows, cols uint8, rgb bool) {
		spp := 1
		if rgb {
			spp = 3
		}
		fr, err := jpegls.Decode(b, int(rows), int(cols), spp)
		if err == nil && len(fr.Pix) != int(rows)*int(cols)*spp {
			t.Fatalf("%d samples for %dx%dx%d", len(fr.Pix), cols, rows, spp)
		}
	})
}
