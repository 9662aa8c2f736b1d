package codec_test

import (
	"bytes"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/codec"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// seedFrame encodes a small synthetic image with a reference tool and
// returns its first compressed frame.
func seedFrame(f *testing.F, s rd.Synth, tool string, args ...string) []byte {
	in, err := s.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	b := dicomtest.Convert(f, in, tool, args...)
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

func small(spp, bits int) rd.Synth {
	return rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "F", Rows: 12, Cols: 16,
		BitsAllocated: bits, SamplesPerPixel: spp, Photometric: map[int]string{1: "MONOCHROME2", 3: "RGB"}[spp],
		Pixel: func(_, i, s int) int { return (i*i*7 + s*40) % 256 }}
}

// FuzzRLE: arbitrary RLE frames and header sizes are refused or decoded,
// never a panic, never more than the header's size allocated.
func FuzzRLE(f *testing.F) {
	f.Add(seedFrame(f, small(1, 16), "dcmcrle"), uint8(12), uint8(16), false, uint8(16))
	f.Add(seedFrame(f, small(3, 8), "dcmcrle"), uint8(12), uint8(16), true, uint8(8))
	f.Fuzz(func(t *testing.T, b []byte, rows, cols uint8, rgb bool, bits uint8) {
		spp := 1
		if rgb {
			spp = 3
		}
		out, err := codec.DecodeRLE(b, int(rows), int(cols), spp, int(bits))
		if err == nil && len(out) != int(rows)*int(cols)*spp*int(bits)/8 {
			t.Fatalf("%d bytes for %dx%dx%d of %d bits", len(out), cols, rows, spp, bits)
		}
	})
}

// FuzzJPEG: arbitrary lossless and extended JPEG streams are refused or
// decoded to exactly the header's size.
func FuzzJPEG(f *testing.F) {
	f.Add(seedFrame(f, small(1, 16), "dcmcjpeg", "+e1"), uint8(12), uint8(16))
	f.Add(seedFrame(f, small(3, 8), "dcmcjpeg", "+el", "+sv", "7"), uint8(12), uint8(16))
	s := small(1, 16)
	s.BitsStored = 12
	f.Add(seedFrame(f, s, "dcmcjpeg", "+ee"), uint8(12), uint8(16))
	f.Fuzz(func(t *testing.T, b []byte, rows, cols uint8) {
		fr, err := codec.DecodeJPEG(b, int(rows), int(cols))
		if err == nil && (fr.Width != int(cols) || fr.Height != int(rows) || len(fr.Pix) != int(rows)*int(cols)*fr.Components) {
			t.Fatalf("decoded %dx%dx%d, header %dx%d", fr.Width, fr.Height, fr.Components, cols, rows)
		}
	})
}
