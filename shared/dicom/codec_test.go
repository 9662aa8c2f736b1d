package dicom_test

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// kinds of synthetic images: known pixels in the layouts PACS send.
type kind struct {
	name string
	syn  rd.Synth
}

func pattern(bits int, signed bool) func(f, i, s int) int {
	return func(f, i, s int) int {
		x, y := i%64, i/64
		v := x*37 + y*91 + f*1013 + (x*y)%17*11 + s*500 + (i*7919)%23
		r := 1 << uint(bits)
		v %= r
		if signed {
			v -= r / 2
		}
		return v
	}
}

func kinds() []kind {
	uid := func(n int) rd.Synth {
		return rd.Synth{StudyUID: "1.2.826.0.1.9", SeriesUID: "1.2.826.0.1.9.1", SOPUID: fmt.Sprintf("1.2.826.0.1.9.1.%d", n),
			PatientID: "P1", PatientName: "Test^Codec", Rows: 48, Cols: 64, Modality: "CT"}
	}
	g16 := uid(1)
	g16.BitsAllocated, g16.Pixel = 16, pattern(16, false)
	g12s := uid(2)
	g12s.BitsAllocated, g12s.BitsStored, g12s.Signed, g12s.Pixel = 16, 12, true, pattern(12, true)
	g8 := uid(3)
	g8.BitsAllocated, g8.Pixel = 8, pattern(8, false)
	rgb := uid(4)
	rgb.BitsAllocated, rgb.SamplesPerPixel, rgb.Photometric, rgb.Pixel = 8, 3, "RGB", pattern(8, false)
	multi := uid(5)
	multi.BitsAllocated, multi.BitsStored, multi.Frames, multi.Pixel = 16, 12, 3, pattern(12, false)
	rgbp := uid(6)
	rgbp.BitsAllocated, rgbp.SamplesPerPixel, rgbp.Planar, rgbp.Photometric, rgbp.Pixel = 8, 3, 1, "RGB", pattern(8, false)
	return []kind{{"grey16", g16}, {"grey12signed", g12s}, {"grey8", g8}, {"rgb", rgb}, {"multiframe12", multi}, {"rgbplanar", rgbp}}
}

// want is the stored values of frame f, samples interleaved.
func want(s rd.Synth, f int) []int {
	spp := max(s.SamplesPerPixel, 1)
	n := s.Rows * s.Cols
	out := make([]int, 0, n*spp)
	for i := 0; i < n; i++ {
		for c := 0; c < spp; c++ {
			out = append(out, s.Pixel(f, i, c))
		}
	}
	return out
}

func decodeAll(t *testing.T, b []byte) (*rd.Image, [][]int) {
	t.Helper()
	im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	var frames [][]int
	for f := 0; f < im.Frames(); f++ {
		s, err := im.Samples(f)
		if err != nil {
			t.Fatalf("frame %d: %v", f, err)
		}
		frames = append(frames, s)
		if _, err := im.Render(rd.Options{Frame: f, Size: 64}); err != nil {
			t.Fatalf("render frame %d: %v", f, err)
		}
	}
	return im, frames
}

// maxDiff is the largest absolute difference of two sample lists.
func maxDiff(t *testing.T, got, want []int) int {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d samples, want %d", len(got), len(want))
	}
	d := 0
	for i := range got {
		d = max(d, abs(got[i]-want[i]))
	}
	return d
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestCodecsNoRace compresses synthetic images of known pixels with the reference
// encoders and checks the decoded samples: exact for lossless syntaxes,
// within the bound the syntax promises (JPEG-LS NEAR) or close to the
// reference decoder's output (lossy JPEG, JPEG 2000).
func TestCodecsNoRace(t *testing.T) {
	type enc struct {
		name, ts string
		tool     string
		args     []string
		skip     func(k kind) bool
		tol      int     // max abs difference to the original (lossless: 0)
		meanTol  float64 // lossy without a reference: mean abs difference, share of the range
		ref      string  // reference decoder to compare with instead, within 2
		refArgs  []string
	}
	signed := func(k kind) bool { return k.syn.Signed }
	not12 := func(k kind) bool { return k.syn.BitsAllocated == 16 && k.syn.BitsStored != 12 }
	encs := []enc{
		{name: "rle-dcmtk", ts: "1.2.840.10008.1.2.5", tool: "dcmcrle"},
		{name: "rle-gdcm", ts: "1.2.840.10008.1.2.5", tool: "gdcmconv", args: []string{"--rle"}},
		{name: "jpeg-sv1", ts: "1.2.840.10008.1.2.4.70", tool: "dcmcjpeg", args: []string{"+e1"}},
		{name: "jpeg-lossless-sv6", ts: "1.2.840.10008.1.2.4.57", tool: "dcmcjpeg", args: []string{"+el", "+sv", "6"}},
		{name: "jpeg-lossless-sv4", ts: "1.2.840.10008.1.2.4.57", tool: "dcmcjpeg", args: []string{"+el", "+sv", "4"}},
		{name: "jpeg-lossless-sv7-frag", ts: "1.2.840.10008.1.2.4.57", tool: "dcmcjpeg", args: []string{"+el", "+sv", "7", "+fs", "1"}},
		{name: "jpeg-extended", ts: "1.2.840.10008.1.2.4.51", tool: "dcmcjpeg", args: []string{"+ee", "+q", "95"}, skip: not12,
			ref: "dcmdjpeg"},
		{name: "jpegls", ts: "1.2.840.10008.1.2.4.80", tool: "dcmcjpls", skip: signed},
		{name: "jpegls-none-frag", ts: "1.2.840.10008.1.2.4.80", tool: "dcmcjpls", args: []string{"+in", "+fs", "1"}, skip: signed},
		{name: "jpegls-near", ts: "1.2.840.10008.1.2.4.81", tool: "dcmcjpls", args: []string{"+en", "+md", "3"}, skip: signed, tol: 3},
		{name: "jpegls-gdcm", ts: "1.2.840.10008.1.2.4.80", tool: "gdcmconv", args: []string{"--jpegls"}},
		{name: "j2k-lossless", ts: "1.2.840.10008.1.2.4.90", tool: "gdcmconv", args: []string{"--j2k"}},
		{name: "j2k-lossy", ts: "1.2.840.10008.1.2.4.91", tool: "gdcmconv", args: []string{"--j2k", "--lossy", "-q", "80"},
			tol: 1 << 16, meanTol: 0.02},
	}
	for _, e := range encs {
		for _, k := range kinds() {
			if e.skip != nil && e.skip(k) {
				continue
			}
			t.Run(e.name+"/"+k.name, func(t *testing.T) {
				in, err := k.syn.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				b := dicomtest.Convert(t, in, e.tool, e.args...)
				im, got := decodeAll(t, b)
				if im.Meta.TransferSyntax != e.ts {
					t.Fatalf("transfer syntax %s, want %s", im.Meta.TransferSyntax, e.ts)
				}
				if len(got) != max(k.syn.Frames, 1) {
					t.Fatalf("%d frames, want %d", len(got), max(k.syn.Frames, 1))
				}
				var ref [][]int
				if e.ref != "" {
					_, ref = decodeAll(t, dicomtest.Convert(t, b, e.ref, e.refArgs...))
				}
				if ref != nil && k.syn.SamplesPerPixel == 3 {
					// The reference converts YCbCr to RGB: compare the renderings.
					refIm, _ := decodeAll(t, dicomtest.Convert(t, b, e.ref, e.refArgs...))
					a, _ := im.Render(rd.Options{})
					c, _ := refIm.Render(rd.Options{})
					ap, cp := a.(*image.RGBA).Pix, c.(*image.RGBA).Pix
					d := 0
					for i := range ap {
						d = max(d, abs(int(ap[i])-int(cp[i])))
					}
					// Chroma is upsampled by nearest neighbour here, by a
					// triangle filter in libjpeg: close on average, not per pixel.
					sum := 0
					for i := range ap {
						sum += abs(int(ap[i]) - int(cp[i]))
					}
					if mean := float64(sum) / float64(len(ap)); mean > 4 || d > 96 {
						t.Fatalf("colour rendering differs from %s by %.2f on average, up to %d", e.ref, mean, d)
					}
					return
				}
				for f := range got {
					if ref != nil {
						if d := maxDiff(t, got[f], ref[f]); d > 2 {
							t.Fatalf("frame %d differs from %s by up to %d", f, e.ref, d)
						}
						continue
					}
					if e.meanTol > 0 {
						w := want(k.syn, f)
						sum := 0
						for i := range w {
							sum += abs(got[f][i] - w[i])
						}
						bits := k.syn.BitsStored
						if bits == 0 {
							bits = k.syn.BitsAllocated
						}
						if mean := float64(sum) / float64(len(w)) / float64(int(1)<<uint(bits)); mean > e.meanTol {
							t.Fatalf("frame %d: mean error %.3f of the range, allowed %.3f", f, mean, e.meanTol)
						}
					}
					if d := maxDiff(t, got[f], want(k.syn, f)); d > e.tol {
						t.Fatalf("frame %d differs from the original by up to %d (allowed %d)", f, d, e.tol)
					}
				}
			})
		}
	}
}

// TestCodecsOnSamples compresses the real sample files (MR, multi-frame CT)
// losslessly with every reference encoder: decoded samples equal the
// original file's exactly.
func TestCodecsOnSamplesNoRace(t *testing.T) {
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	tools := []struct {
		name string
		args []string
	}{
		{"dcmcrle", nil},
		{"dcmcjpeg", []string{"+e1"}},
		{"dcmcjpeg", []string{"+el", "+sv", "5"}},
		{"dcmcjpls", nil},
		{"gdcmconv", []string{"--jpegls"}},
		{"gdcmconv", []string{"--j2k"}},
		{"gdcmconv", []string{"--rle"}},
	}
	for _, name := range []string{"3.dcm", "5.dcm"} {
		orig, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		_, want := decodeAll(t, orig)
		for _, tool := range tools {
			t.Run(fmt.Sprint(name, "/", tool.name, tool.args), func(t *testing.T) {
				_, got := decodeAll(t, dicomtest.Convert(t, orig, tool.name, tool.args...))
				if len(got) != len(want) {
					t.Fatalf("%d frames, want %d", len(got), len(want))
				}
				for f := range got {
					if d := maxDiff(t, got[f], want[f]); d != 0 {
						t.Fatalf("frame %d differs by up to %d", f, d)
					}
				}
			})
		}
	}
}

// TestNativeLayouts covers native pixel data the samples lack: 1-bit
// (frames packed back to back), YBR_FULL_422 and signed 32-bit.
func TestNativeLayouts(t *testing.T) {
	base := rd.Synth{StudyUID: "1.2.826.0.1.8", SeriesUID: "1.2.826.0.1.8.1", PatientID: "P", PatientName: "N^A", Modality: "SEG"}
	// 1-bit: 3 frames of 5x7 = 35 bits each, not byte aligned.
	bit := func(f, i int) int { return (f + i*i) % 3 & 1 }
	one := base
	one.SOPUID, one.Rows, one.Cols, one.Frames, one.BitsAllocated, one.BitsStored = "1.2.826.0.1.8.1.1", 5, 7, 3, 1, 1
	one.Raw = make([]byte, (3*35+7)/8+1&^1)
	for f := 0; f < 3; f++ {
		for i := 0; i < 35; i++ {
			if bit(f, i) == 1 {
				k := f*35 + i
				one.Raw[k/8] |= 1 << uint(k%8)
			}
		}
	}
	// YBR_FULL_422: Y1 Y2 Cb Cr per pair of pixels.
	ybr := base
	ybr.SOPUID, ybr.Rows, ybr.Cols, ybr.BitsAllocated, ybr.SamplesPerPixel, ybr.Photometric = "1.2.826.0.1.8.1.2", 2, 4, 8, 3, "YBR_FULL_422"
	ybr.Raw = []byte{10, 20, 128, 128, 30, 40, 100, 150, 50, 60, 128, 128, 70, 80, 200, 90}
	s32 := base
	s32.SOPUID, s32.Rows, s32.Cols, s32.BitsAllocated, s32.Signed = "1.2.826.0.1.8.1.3", 4, 4, 32, true
	s32.Pixel = func(_, i, _ int) int { return (i - 8) * 100000 }

	for _, tc := range []struct {
		name string
		syn  rd.Synth
		want func(f int) []int
	}{
		{"1-bit", one, func(f int) []int {
			var w []int
			for i := 0; i < 35; i++ {
				w = append(w, bit(f, i))
			}
			return w
		}},
		{"ybr422", ybr, func(int) []int {
			return []int{10, 128, 128, 20, 128, 128, 30, 100, 150, 40, 100, 150, 50, 128, 128, 60, 128, 128, 70, 200, 90, 80, 200, 90}
		}},
		{"signed32", s32, func(int) []int {
			var w []int
			for i := 0; i < 16; i++ {
				w = append(w, (i-8)*100000)
			}
			return w
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.syn.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			im, got := decodeAll(t, b)
			if len(got) != max(tc.syn.Frames, 1) {
				t.Fatalf("%d frames, want %d", len(got), max(tc.syn.Frames, 1))
			}
			for f := range got {
				if d := maxDiff(t, got[f], tc.want(f)); d != 0 {
					t.Fatalf("frame %d: %v, want %v", f, got[f], tc.want(f))
				}
			}
			img, err := im.Render(rd.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tc.syn.Cols || b.Dy() != tc.syn.Rows {
				t.Fatalf("rendered %v", b)
			}
		})
	}
}

// dcmdump checks that dcmtk reads b (the acceptance bar for import).
func dcmdump(t testing.TB, b []byte) {
	t.Helper()
	dicomtest.NeedTool(t, "dcmdump")
	p := filepath.Join(t.TempDir(), "x.dcm")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dcmdump", "-q", p).CombinedOutput(); err != nil {
		t.Fatalf("dcmdump refuses the test file: %v\n%s", err, out)
	}
}

// TestPixelAspect: non-square pixels are rendered at their physical
// proportions, stretched on the short side, then fitted.
func TestPixelAspect(t *testing.T) {
	for _, tc := range []struct {
		spacing      string
		size, wW, wH int
	}{
		{"", 0, 64, 32},
		{"1\\1", 0, 64, 32},
		{"2\\1", 0, 64, 64},    // pixels twice as tall as wide
		{"0.5\\1", 0, 128, 32}, // twice as wide as tall
		{"2\\1", 32, 32, 32},
		{"0.5\\1", 64, 64, 16},
		{"0\\1", 0, 64, 32}, // nonsense: square
	} {
		s := rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "A", Rows: 32, Cols: 64,
			BitsAllocated: 8, PixelSpacing: tc.spacing, Pixel: func(_, i, _ int) int { return i % 256 }}
		b, err := s.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		img, err := im.Render(rd.Options{Size: tc.size})
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got.X != tc.wW || got.Y != tc.wH {
			t.Errorf("spacing %q size %d: %v, want %dx%d", tc.spacing, tc.size, got, tc.wW, tc.wH)
		}
	}
}
