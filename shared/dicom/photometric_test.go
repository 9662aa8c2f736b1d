package dicom_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// The photometric tests render public test files (pydicom's, as Debian's
// python3-pydicom ships them) and files built from them with dcmtk and
// GDCM, and compare each rendering with dcmtk's dcm2pnm on the same frame.

// pydicomDir is where python3-pydicom keeps its test files and palettes.
const pydicomDir = "/usr/lib/python3/dist-packages/pydicom/data"

func pydicomFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pydicomDir, rel))
	if err != nil {
		t.Fatalf("pydicom test file missing (install python3-pydicom: scripts/deps.sh test): %v", err)
	}
	return b
}

// tool runs a dcmtk/GDCM command in dir and fails the test on an error.
func tool(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	dicomtest.NeedTool(t, name)
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// modify returns b changed by dcmodify (args as dcmodify takes them; value
// files are looked up in dir).
func modify(t *testing.T, dir string, b []byte, args ...string) []byte {
	t.Helper()
	p := filepath.Join(dir, "modify.dcm")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tool(t, dir, "dcmodify", append(append([]string{"-nb"}, args...), p)...)
	out, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dcm2pnm renders frame (1-based) of b with dcmtk, options as given.
func dcm2pnm(t *testing.T, b []byte, frame int, opts ...string) image.Image {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.png")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"+on", "+F", strconv.Itoa(frame)}, opts...)
	tool(t, dir, "dcm2pnm", append(args, in, out)...)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// render is RadPass's rendering of frame (0-based) with the file's default window.
func render(t *testing.T, b []byte, frame int) image.Image {
	t.Helper()
	im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	img, err := im.Render(rd.Options{Frame: frame})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return img
}

// likeDcmtk compares two 8-bit renderings channel by channel (grey as
// R=G=B): they agree when the correlation is at least 0.99 or the mean
// absolute difference at most 2.
func likeDcmtk(t *testing.T, got, want image.Image) {
	t.Helper()
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("size %v, dcm2pnm %v", got.Bounds().Size(), want.Bounds().Size())
	}
	var sx, sy, sxx, syy, sxy, sad float64
	n := 0
	g0, w0 := got.Bounds().Min, want.Bounds().Min
	for y := 0; y < got.Bounds().Dy(); y++ {
		for x := 0; x < got.Bounds().Dx(); x++ {
			r1, g1, b1, _ := got.At(g0.X+x, g0.Y+y).RGBA()
			r2, g2, b2, _ := want.At(w0.X+x, w0.Y+y).RGBA()
			for c, a := range [3]uint32{r1, g1, b1} {
				u, v := float64(a>>8), float64([3]uint32{r2, g2, b2}[c]>>8)
				sx, sy, sxx, syy, sxy = sx+u, sy+v, sxx+u*u, syy+v*v, sxy+u*v
				sad += math.Abs(u - v)
				n++
			}
		}
	}
	N := float64(n)
	corr := (sxy/N - sx/N*sy/N) / math.Sqrt((sxx/N-sx/N*sx/N)*(syy/N-sy/N*sy/N))
	mad := sad / N
	t.Logf("%s against dcm2pnm: correlation %.4f, mean absolute difference %.2f", t.Name(), corr, mad)
	if !(corr >= 0.99 || mad <= 2) {
		t.Errorf("differs from dcm2pnm: correlation %.4f, mean absolute difference %.2f", corr, mad)
	}
}

// owElement returns the bytes of an OW element of a public file.
func owElement(t *testing.T, rel string, tg tag.Tag) []byte {
	t.Helper()
	ds, err := dcm.ParseFile(filepath.Join(pydicomDir, rel), nil)
	if err != nil {
		t.Fatalf("%s: %v (install python3-pydicom: scripts/deps.sh test)", rel, err)
	}
	e, err := ds.FindElementByTag(tg)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	b, ok := e.Value.GetValue().([]byte)
	if !ok {
		t.Fatalf("%s %v: not OW", rel, tg)
	}
	return b
}

var colours = [3]string{"Red", "Green", "Blue"}

// withPalette makes img a PALETTE COLOR image: desc is the descriptor of
// all three tables, data[c] their LUT data (segmented when seg).
func withPalette(t *testing.T, img []byte, desc string, data [3][]byte, seg bool) []byte {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-m", "(0028,0004)=PALETTE COLOR"}
	for c := range 3 {
		f := fmt.Sprintf("lut%d.raw", c)
		if err := os.WriteFile(filepath.Join(dir, f), data[c], 0o600); err != nil {
			t.Fatal(err)
		}
		el := 0x1201 + c
		if seg {
			el = 0x1221 + c
		}
		args = append(args, "-i", fmt.Sprintf("(0028,%04x)=%s", 0x1101+c, desc), "-if", fmt.Sprintf("(0028,%04x)=%s", el, f))
	}
	return modify(t, dir, img, args...)
}

func words(v []int) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
	}
	return b
}

// grey8 is pydicom's 8-bit 512x512 image, inflated.
func grey8(t *testing.T) []byte {
	return dicomtest.Convert(t, pydicomFile(t, "test_files/image_dfl.dcm"), "dcmconv", "+te")
}

// mr16 is pydicom's 16-bit MR (values 127..2145), made unsigned and
// without its window: a 16-bit palette image needs unsigned indices.
func mr16(t *testing.T) []byte {
	return modify(t, t.TempDir(), pydicomFile(t, "test_files/MR_small.dcm"),
		"-m", "(0028,0103)=0", "-e", "(0028,1050)", "-e", "(0028,1051)")
}

// items16 turns the 8-bit items of a segmented table into 16-bit ones:
// same segments, values scaled to 16 bits.
func items16(t *testing.T, b []byte) []int {
	t.Helper()
	var out []int
	for i := 0; i+1 < len(b); {
		op, n := int(b[i]), int(b[i+1])
		switch op {
		case 0:
			out = append(out, 0, n)
			for _, v := range b[i+2 : i+2+n] {
				out = append(out, int(v)*257)
			}
			i += 2 + n
		case 1:
			out = append(out, 1, n, int(b[i+2])*257)
			i += 3
		default:
			t.Fatalf("opcode %d", op)
		}
		if len(b)-i == 1 { // padding to an even length
			break
		}
	}
	return out
}

// gdcmLinear expands a 16-bit segmented palette with GDCM (gdcmconv
// --decompress-lut): it reads only 16-bit segmented tables of a 16-bit
// image, and not 256 entries long. Returns the plain LUT data per colour.
func gdcmLinear(t *testing.T, segmented []byte) [3][]byte {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "seg.dcm"), filepath.Join(dir, "lin.dcm")
	if err := os.WriteFile(in, segmented, 0o600); err != nil {
		t.Fatal(err)
	}
	tool(t, dir, "gdcmconv", "--decompress-lut", in, out)
	ds, err := dcm.ParseFile(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var lin [3][]byte
	for c := range 3 {
		e, err := ds.FindElementByTag(tag.Tag{Group: 0x0028, Element: uint16(0x1201 + c)})
		if err != nil {
			t.Fatalf("gdcmconv left no %s LUT data: %v", colours[c], err)
		}
		lin[c] = e.Value.GetValue().([]byte)
	}
	return lin
}

// TestPaletteColorNoRace: PALETTE COLOR images are drawn through their palette,
// as dcm2pnm draws them.
func TestPaletteColorNoRace(t *testing.T) {
	t.Parallel()
	t.Run("8-bit hot iron on 8-bit pixels", func(t *testing.T) {
		var lut [3][]byte
		for c := range 3 {
			lut[c] = owElement(t, "palettes/hotiron.dcm", tag.Tag{Group: 0x0028, Element: uint16(0x1201 + c)})
		}
		b := withPalette(t, grey8(t), `256\0\8`, lut, false)
		likeDcmtk(t, render(t, b, 0), dcm2pnm(t, b, 1))
	})
	t.Run("16-bit entries, first mapped 200, on 16-bit pixels", func(t *testing.T) {
		// PET stretched to 1800 16-bit entries: values below 200 take the
		// first entry, values from 2000 the last.
		var lut [3][]byte
		for c := range 3 {
			pet := owElement(t, "palettes/pet.dcm", tag.Tag{Group: 0x0028, Element: uint16(0x1201 + c)})
			v := make([]int, 1800)
			for i := range v {
				v[i] = int(pet[i*256/len(v)]) * 257
			}
			lut[c] = words(v)
		}
		b := withPalette(t, mr16(t), `1800\200\16`, lut, false)
		likeDcmtk(t, render(t, b, 0), dcm2pnm(t, b, 1))
	})
	// dcmtk does not read segmented palettes: GDCM expands them into plain
	// ones, which dcm2pnm then draws.
	for _, name := range []string{"spring", "summer", "fall", "winter"} {
		t.Run("segmented 8-bit "+name, func(t *testing.T) {
			// The public 8-bit segmented palette as is, on 8-bit pixels.
			var seg8, seg16 [3][]byte
			for c := range 3 {
				seg8[c] = owElement(t, "palettes/"+name+".dcm", tag.Tag{Group: 0x0028, Element: uint16(0x1221 + c)})
				// For GDCM: the same segments in 16 bits, one more entry.
				it := items16(t, seg8[c])
				seg16[c] = words(append(it, 0, 1, it[len(it)-1]))
			}
			b := withPalette(t, grey8(t), `256\0\8`, seg8, true)
			lin := gdcmLinear(t, withPalette(t, mr16(t), `257\0\16`, seg16, true))
			ref := withPalette(t, grey8(t), `257\0\16`, lin, false)
			likeDcmtk(t, render(t, b, 0), dcm2pnm(t, ref, 1))
		})
	}
	t.Run("segmented 16-bit with an indirect segment", func(t *testing.T) {
		// 2200 entries on the MR's values 127..2145, every opcode.
		seg := [3][]byte{
			words([]int{0, 1, 0, 1, 1100, 65535, 1, 1099, 0}),
			words([]int{0, 3, 0, 30000, 65535, 1, 2197, 20000}),
			// discrete, linear, linear, then the two linear segments again
			// (byte offset 6), then one discrete entry.
			words([]int{0, 1, 65535, 1, 549, 0, 1, 550, 65535, 2, 2, 6, 0, 0, 1, 0}),
		}
		b := withPalette(t, mr16(t), `2200\0\16`, seg, true)
		ref := withPalette(t, mr16(t), `2200\0\16`, gdcmLinear(t, b), false)
		likeDcmtk(t, render(t, b, 0), dcm2pnm(t, ref, 1))
	})
}

// TestJPEGPhotometric: a baseline JPEG's components are what the header's
// Photometric Interpretation says: RGB without JFIF or Adobe marker (which
// image/jpeg alone takes for YCbCr) stays RGB, YBR_FULL(_422) is converted.
func TestJPEGPhotometric(t *testing.T) {
	t.Parallel()
	rgbRLE := pydicomFile(t, "test_files/SC_rgb_rle.dcm")
	native := dicomtest.Convert(t, rgbRLE, "dcmdrle")
	files := map[string][]byte{
		"SC_jpeg_no_color_transform":   pydicomFile(t, "test_files/SC_jpeg_no_color_transform.dcm"),
		"SC_jpeg_no_color_transform_2": pydicomFile(t, "test_files/SC_jpeg_no_color_transform_2.dcm"),
		"SC_rgb_dcmtk_+eb+cr":          pydicomFile(t, "test_files/SC_rgb_dcmtk_+eb+cr.dcm"),
		"SC_rgb_dcmtk_+eb+cy+n1":       pydicomFile(t, "test_files/SC_rgb_dcmtk_+eb+cy+n1.dcm"),
		"SC_rgb_dcmtk_+eb+cy+np":       pydicomFile(t, "test_files/SC_rgb_dcmtk_+eb+cy+np.dcm"),
		"dcmcjpeg RGB":                 dicomtest.Convert(t, native, "dcmcjpeg", "+eb", "+cr"),
		"dcmcjpeg YBR_FULL_422":        dicomtest.Convert(t, native, "dcmcjpeg", "+eb", "+cy", "+s2"),
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			likeDcmtk(t, render(t, b, 0), dcm2pnm(t, dicomtest.Convert(t, b, "dcmdjpeg"), 1))
		})
	}
}

// TestRLE32BitRGB: 32 bits per sample RGB, as pydicom ships it and as
// dcmtk and GDCM encode it, every frame.
func TestRLE32BitRGB(t *testing.T) {
	t.Parallel()
	one := pydicomFile(t, "test_files/SC_rgb_rle_32bit.dcm")
	two := pydicomFile(t, "test_files/SC_rgb_rle_32bit_2frame.dcm")
	files := map[string][]byte{
		"pydicom 1 frame":  one,
		"pydicom 2 frames": two,
		"dcmcrle":          dicomtest.Convert(t, dicomtest.Convert(t, two, "dcmdrle"), "dcmcrle"),
		// GDCM writes no multi-frame Secondary Capture.
		"gdcmconv --rle": dicomtest.Convert(t, dicomtest.Convert(t, one, "dcmdrle"), "gdcmconv", "--rle"),
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if im.Meta.TransferSyntax != "1.2.840.10008.1.2.5" || im.Meta.BitsAllocated != 32 {
				t.Fatalf("%s, %d bits", im.Meta.TransferSyntax, im.Meta.BitsAllocated)
			}
			for f := 0; f < im.Frames(); f++ {
				likeDcmtk(t, render(t, b, f), dcm2pnm(t, b, f+1))
			}
		})
	}
}

// TestDefaultWindowIsPixelRange: without a stored window the whole pixel
// range is shown (dcm2pnm's min-max window), or Smallest/Largest Image
// Pixel Value when the file has them; CT keeps its percentile default.
func TestDefaultWindowIsPixelRange(t *testing.T) {
	t.Parallel()
	jpeg12 := pydicomFile(t, "test_files/JPGExtended.dcm") // NM, 12-bit lossy JPEG, values 0..264
	t.Run("12-bit JPEG", func(t *testing.T) {
		likeDcmtk(t, render(t, jpeg12, 0), dcm2pnm(t, dicomtest.Convert(t, jpeg12, "dcmdjpeg"), 1, "+Wm"))
	})
	t.Run("12-bit JPEG-LS", func(t *testing.T) {
		ls := dicomtest.Convert(t, dicomtest.Convert(t, jpeg12, "dcmdjpeg"), "dcmcjpls")
		likeDcmtk(t, render(t, ls, 0), dcm2pnm(t, dicomtest.Convert(t, ls, "dcmdjpls"), 1, "+Wm"))
	})
	t.Run("8-bit", func(t *testing.T) {
		b := grey8(t)
		likeDcmtk(t, render(t, b, 0), dcm2pnm(t, b, 1, "+Wm"))
	})
	t.Run("smallest and largest pixel value", func(t *testing.T) {
		// 0..400 declared: the window is 0..400 (center 200.5, width 401).
		b := modify(t, t.TempDir(), dicomtest.Convert(t, jpeg12, "dcmdjpeg"),
			"-i", "(0028,0106)=0", "-i", "(0028,0107)=400")
		likeDcmtk(t, render(t, b, 0), dcm2pnm(t, b, 1, "+Ww", "200.5", "401"))
	})
	t.Run("CT keeps the percentile window", func(t *testing.T) {
		b := pydicomFile(t, "test_files/CT_small.dcm") // no stored window
		im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		def, err := im.Render(rd.Options{})
		if err != nil {
			t.Fatal(err)
		}
		auto, err := im.Render(rd.Options{Auto: true})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(def.(*image.Gray).Pix, auto.(*image.Gray).Pix) {
			t.Fatal("CT without a window is not drawn with the percentile window")
		}
	})
}

// An enhanced CT keeps rescale and window in its functional groups (the
// sample's intercept is -1024, its window 49/102 in Hounsfield units):
// read there, the frame renders as dcmtk renders it with that window;
// ignored, the raw values through the HU window would come out white.
func TestEnhancedCTFunctionalGroups(t *testing.T) {
	t.Parallel()
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "5.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if m := im.Meta; m.RescaleIntercept != -1024 || m.WindowCenter != "49.0000" || m.WindowWidth != "102.000" {
		t.Fatalf("rescale/window from the functional groups: intercept %v, window %q/%q", m.RescaleIntercept, m.WindowCenter, m.WindowWidth)
	}
	likeDcmtk(t, render(t, b, 0), dcm2pnm(t, b, 1, "+Ww", "49", "102"))
}
