package dicom_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

func sampleDir(t testing.TB) string {
	t.Helper()
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func decodeFile(t testing.TB, path string) *rd.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	im, err := rd.Decode(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return im
}

// spread checks an 8-bit image is not blank: some dark, some bright, and a
// real standard deviation.
func spread(t *testing.T, name string, img image.Image) {
	t.Helper()
	b := img.Bounds()
	var sum, sq float64
	black, white, n := 0, 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			v := float64(g)
			sum += v
			sq += v * v
			n++
			if g < 8 {
				black++
			}
			if g > 247 {
				white++
			}
		}
	}
	mean := sum / float64(n)
	sd := math.Sqrt(sq/float64(n) - mean*mean)
	if black > n*98/100 || white > n*98/100 || sd < 10 {
		t.Errorf("%s: blank-looking image: mean %.1f sd %.1f black %d white %d of %d", name, mean, sd, black, white, n)
	}
}

func TestSampleFilesRender(t *testing.T) {
	t.Parallel()
	dir := sampleDir(t)
	tests := []struct {
		file     string
		modality string
		frames   int
	}{
		{"1.dcm", "PT", 1}, {"2.dcm", "PT", 1}, {"3.dcm", "MR", 1},
		{"4.dcm", "CR", 1}, {"5.dcm", "CT", 2}, {"6.dcm", "OT", 1},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			im := decodeFile(t, filepath.Join(dir, tc.file))
			if im.Meta.Modality != tc.modality || im.Frames() != tc.frames {
				t.Fatalf("modality %q frames %d, want %q %d", im.Meta.Modality, im.Frames(), tc.modality, tc.frames)
			}
			for f := 0; f < im.Frames(); f++ {
				img, err := im.Render(rd.Options{Frame: f})
				if err != nil {
					t.Fatalf("frame %d: %v", f, err)
				}
				if img.Bounds().Dx() != im.Meta.Columns || img.Bounds().Dy() != im.Meta.Rows {
					t.Fatalf("size %v, want %dx%d", img.Bounds(), im.Meta.Columns, im.Meta.Rows)
				}
				spread(t, tc.file, img)
			}
			// Thumbnail: longest side 128, aspect kept, and still an image.
			th, err := im.Render(rd.Options{Size: 128})
			if err != nil {
				t.Fatal(err)
			}
			if b := th.Bounds(); max(b.Dx(), b.Dy()) != 128 {
				t.Fatalf("thumbnail %v", b)
			}
			spread(t, tc.file+" thumbnail", th)
			// Both encodings decode back to the same size.
			for _, pngOut := range []bool{false, true} {
				var buf bytes.Buffer
				if err := rd.Encode(&buf, th, pngOut); err != nil {
					t.Fatal(err)
				}
				var back image.Image
				if pngOut {
					back, err = png.Decode(&buf)
				} else {
					back, err = jpeg.Decode(&buf)
				}
				if err != nil || back.Bounds() != th.Bounds() {
					t.Fatalf("png=%v: decode back %v %v", pngOut, err, back)
				}
			}
		})
	}
}

func TestWindowPresetChangesCT(t *testing.T) {
	t.Parallel()
	im := decodeFile(t, filepath.Join(sampleDir(t), "5.dcm"))
	mean := func(w string) float64 {
		win, auto, ok := rd.ParseWindow(w)
		if !ok {
			t.Fatalf("window %q refused", w)
		}
		img, err := im.Render(rd.Options{Window: win, Auto: auto, Size: 128})
		if err != nil {
			t.Fatal(err)
		}
		g := img.(*image.Gray)
		s := 0
		for _, p := range g.Pix {
			s += int(p)
		}
		return float64(s) / float64(len(g.Pix))
	}
	// A lung window shows more of the body bright than a narrow brain window does black.
	lung, brain := mean("lung"), mean("brain")
	if lung == brain {
		t.Fatalf("presets give the same image (%.1f)", lung)
	}
	if _, _, ok := rd.ParseWindow("nonsense"); ok {
		t.Fatal("nonsense window accepted")
	}
	if _, _, ok := rd.ParseWindow("40,0"); ok {
		t.Fatal("zero width accepted")
	}
}

func synth(t *testing.T, s rd.Synth) *rd.Image {
	t.Helper()
	s.StudyUID, s.SeriesUID, s.SOPUID = "1.2.3", "1.2.3.4", "1.2.3.4.5"
	s.PatientID = "P1"
	if s.Rows == 0 {
		s.Rows, s.Cols = 4, 4
	}
	b, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	im, err := rd.Decode(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// Pixel layouts: each case gives a stored ramp and checks the output of
// pixel 0 (lowest) and pixel 15 (highest) after LUTs.
func TestPixelLayouts(t *testing.T) {
	t.Parallel()
	ramp := func(lo, hi int) func(f, i, s int) int {
		return func(f, i, s int) int { return lo + (hi-lo)*i/15 }
	}
	tests := []struct {
		name     string
		s        rd.Synth
		window   string
		first    uint8
		last     uint8
		frame    int
		isColour bool
		grey     bool // colour case expecting mid grey
	}{
		{name: "unsigned 8-bit", s: rd.Synth{BitsAllocated: 8, Pixel: ramp(0, 255)}, first: 0, last: 255},
		{name: "unsigned 12-bit in 16", s: rd.Synth{BitsAllocated: 16, BitsStored: 12, Pixel: ramp(0, 4095)}, first: 0, last: 255},
		{name: "signed 16-bit CT with rescale", s: rd.Synth{BitsAllocated: 16, Signed: true, Slope: "1", Intercept: "-1024", Pixel: ramp(-1000, 3000)}, window: "0,2000", first: 0, last: 255},
		{name: "signed 12-bit negative values", s: rd.Synth{BitsAllocated: 16, BitsStored: 12, Signed: true, Pixel: ramp(-2000, 2000)}, window: "0,4000", first: 0, last: 255},
		{name: "MONOCHROME1 inverted", s: rd.Synth{BitsAllocated: 16, Photometric: "MONOCHROME1", Pixel: ramp(0, 1000)}, window: "auto", first: 255, last: 0},
		{name: "file window", s: rd.Synth{BitsAllocated: 16, WindowCenter: "100", WindowWidth: "20", Pixel: ramp(0, 1000)}, first: 0, last: 255},
		{name: "multi-frame picks frame", s: rd.Synth{BitsAllocated: 8, Frames: 3, Pixel: func(f, i, s int) int { return f * 100 }}, window: "0,1000", frame: 2, first: 179, last: 179},
		{name: "signed 8-bit", s: rd.Synth{BitsAllocated: 8, Signed: true, Pixel: ramp(-128, 127)}, window: "0,256", first: 0, last: 255},
		{name: "YBR_FULL to RGB", s: rd.Synth{BitsAllocated: 8, SamplesPerPixel: 3, Photometric: "YBR_FULL", Pixel: func(f, i, s int) int { return [3]int{128, 128, 128}[s] }}, isColour: true, grey: true},
		{name: "RGB planar 0", s: rd.Synth{BitsAllocated: 8, SamplesPerPixel: 3, Photometric: "RGB", Pixel: func(f, i, s int) int { return [3]int{200, 100, 50}[s] }}, isColour: true},
		{name: "RGB planar 1", s: rd.Synth{BitsAllocated: 8, SamplesPerPixel: 3, Planar: 1, Photometric: "RGB", Pixel: func(f, i, s int) int { return [3]int{200, 100, 50}[s] }}, isColour: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			im := synth(t, tc.s)
			win, auto, ok := rd.ParseWindow(tc.window)
			if !ok {
				t.Fatalf("window %q", tc.window)
			}
			img, err := im.Render(rd.Options{Frame: tc.frame, Window: win, Auto: auto})
			if err != nil {
				t.Fatal(err)
			}
			if tc.isColour {
				r, g, b, _ := img.At(2, 2).RGBA()
				if tc.grey {
					if r>>8 != 128 || g>>8 != 128 || b>>8 != 128 {
						t.Fatalf("YBR grey became %d %d %d", r>>8, g>>8, b>>8)
					}
					return
				}
				if r>>8 != 200 || g>>8 != 100 || b>>8 != 50 {
					t.Fatalf("colour %d %d %d, want 200 100 50", r>>8, g>>8, b>>8)
				}
				return
			}
			g := img.(*image.Gray)
			if d := int(g.Pix[0]) - int(tc.first); d < -2 || d > 2 {
				t.Errorf("first pixel %d, want %d", g.Pix[0], tc.first)
			}
			if d := int(g.Pix[15]) - int(tc.last); d < -2 || d > 2 {
				t.Errorf("last pixel %d, want %d", g.Pix[15], tc.last)
			}
		})
	}
}

func TestFrameOutOfRange(t *testing.T) {
	t.Parallel()
	im := synth(t, rd.Synth{BitsAllocated: 8, Pixel: func(f, i, s int) int { return i }})
	if _, err := im.Render(rd.Options{Frame: 1}); !errors.Is(err, rd.ErrFrame) {
		t.Fatalf("frame 1 of 1: %v", err)
	}
}

// PS3.5 character sets: Latin-1 bytes under ISO_IR 100 and UTF-8 under ISO_IR 192.
func TestPersonNameCharacterSets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		charset, raw  string
		family, given string
	}{
		{"ISO_IR 100", "M\xfcller^Jos\xe9^^Dr.", "Müller", "José"},
		{"ISO_IR 192", "Łukasik^Zoë", "Łukasik", "Zoë"},
		{"", "Smith^John", "Smith", "John"},
	}
	for _, tc := range tests {
		s := rd.Synth{CharSet: tc.charset, PatientName: tc.raw, BirthDate: "19800229", StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4",
			PatientID: "X", Rows: 2, Cols: 2, BitsAllocated: 8, Pixel: func(f, i, s int) int { return i }}
		b, err := s.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		m, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if m.PatientName.Family != tc.family || m.PatientName.Given != tc.given {
			t.Errorf("%s: name %+v, want %s / %s", tc.charset, m.PatientName, tc.family, tc.given)
		}
		if m.BirthDate == nil || m.BirthDate.Format("2006-01-02") != "1980-02-29" {
			t.Errorf("birth date %v", m.BirthDate)
		}
	}
}

func TestReadMetaRejects(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(filepath.Join(sampleDir(t), "3.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string][]byte{
		"empty":     nil,
		"random":    bytes.Repeat([]byte{0x5a, 0x13, 0xff, 0x00}, 300),
		"truncated": good[:len(good)/2],
		"text":      []byte("hello, this is not a DICOM file at all"),
	}
	for name, b := range tests {
		if _, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	noUID, _ := rd.Synth{StudyUID: "", SeriesUID: "1.2", SOPUID: "1.2.3", PatientID: "X", Rows: 1, Cols: 1, BitsAllocated: 8, Pixel: func(f, i, s int) int { return 0 }}.Bytes()
	if _, err := rd.ReadMeta(bytes.NewReader(noUID), int64(len(noUID))); !errors.Is(err, rd.ErrMissingUID) {
		t.Errorf("missing study UID: %v", err)
	}
}

func TestUnavailableIsTranslated(t *testing.T) {
	t.Parallel()
	en, de := rd.Unavailable("en", 256), rd.Unavailable("de", 256)
	if len(en) == 0 || bytes.Equal(en, de) {
		t.Fatal("placeholder missing or the same in English and German")
	}
	img, err := png.Decode(bytes.NewReader(en))
	if err != nil || img.Bounds().Dx() != 256 {
		t.Fatalf("placeholder: %v", err)
	}
}

func TestRendererCachesAndFallsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(sampleDir(t), "3.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	key, _, _, err := st.Put(ctx, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	r := &rd.Renderer{Store: st, CacheDir: cache}
	q := rd.Request{StorageKey: key, Size: 64, Lang: "en"}
	first, err := r.Render(ctx, q)
	if err != nil || first.Unavailable || first.ContentType != "image/jpeg" {
		t.Fatalf("render: %v %+v", err, first)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "*", "*"))
	if len(files) != 1 {
		t.Fatalf("%d cache files, want 1", len(files))
	}
	second, err := r.Render(ctx, q)
	if err != nil || !bytes.Equal(first.Data, second.Data) || first.ETag != second.ETag {
		t.Fatal("cached rendering differs")
	}
	// Spellings of one rendering share one cache entry.
	for _, alias := range []rd.Request{
		{StorageKey: key, Size: 60, Lang: "en"},
		{StorageKey: key, Size: 64, Lang: "fr"},
	} {
		if again, err := r.Render(ctx, alias); err != nil || again.ETag != first.ETag {
			t.Fatalf("size %d: another cache entry for the same rendering", alias.Size)
		}
	}
	soft, err := r.Render(ctx, rd.Request{StorageKey: key, Size: 64, Window: "soft"})
	if err != nil {
		t.Fatal(err)
	}
	if same, err := r.Render(ctx, rd.Request{StorageKey: key, Size: 64, Window: "40.0,400"}); err != nil || same.ETag != soft.ETag {
		t.Fatalf("window 40.0,400 and soft are cached apart: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(cache, "*", "*")); len(files) != 2 {
		t.Fatalf("%d cache files after aliases, want 2", len(files))
	}
	q.PNG = true
	p, err := r.Render(ctx, q)
	if err != nil || p.ContentType != "image/png" || p.ETag == first.ETag {
		t.Fatalf("png: %v %+v", err, p)
	}
	if _, err := r.Render(ctx, rd.Request{StorageKey: key, Frame: 3}); !errors.Is(err, rd.ErrFrame) {
		t.Fatalf("frame 3: %v", err)
	}
	if _, err := r.Render(ctx, rd.Request{StorageKey: key, Window: "x"}); !errors.Is(err, rd.ErrBadWindow) {
		t.Fatalf("bad window: %v", err)
	}
	// A file labelled JPEG 2000 whose pixel data is no codestream: stored fine,
	// rendered as the translated placeholder.
	j2k, err := rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "X", Rows: 2, Cols: 2, BitsAllocated: 8,
		TransferSyntax: "1.2.840.10008.1.2.4.90", Pixel: func(f, i, s int) int { return 0 }}.Bytes()
	if err != nil {
		t.Fatalf("synthesize: %v", err)
	}
	k2, _, _, err := st.Put(ctx, bytes.NewReader(j2k))
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Render(ctx, rd.Request{StorageKey: k2, Lang: "fr", Size: 128})
	if err != nil || !res.Unavailable || res.ContentType != "image/png" {
		t.Fatalf("JPEG 2000: %v %+v", err, res)
	}
}

// Baseline JPEG (encapsulated) is decoded with image/jpeg, frame by frame.
func TestEncapsulatedJPEG(t *testing.T) {
	t.Parallel()
	im := synth(t, rd.Synth{Rows: 64, Cols: 64, Frames: 2, BitsAllocated: 8, TransferSyntax: "1.2.840.10008.1.2.4.50",
		Pixel: func(f, i, _ int) int { return (i%64)*4 - f*100 + 100 }})
	if im.Frames() != 2 {
		t.Fatalf("%d frames", im.Frames())
	}
	for f := 0; f < 2; f++ {
		img, err := im.Render(rd.Options{Frame: f, Size: 32})
		if err != nil {
			t.Fatalf("frame %d: %v", f, err)
		}
		if img.Bounds().Dx() != 32 {
			t.Fatalf("frame %d size %v", f, img.Bounds())
		}
		spread(t, "jpeg frame", img)
	}
}

// opens counts the blobs a renderer reads.
type opens struct {
	storage.Store
	n atomic.Int32
}

func (o *opens) Open(ctx context.Context, key string) (storage.Blob, error) {
	o.n.Add(1)
	return o.Store.Open(ctx, key)
}

// An undecodable frame is decoded once: later views, sizes and windows get
// the placeholder from the cache's verdict without reading the file again.
// Another frame, or a renderer without a cache, still tries.
func TestUndecodableFrameIsNotDecodedAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fsStore, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := &opens{Store: fsStore}
	// Zero bytes labelled JPEG 2000: no codestream, never decodable.
	broken, err := rd.Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "X", Rows: 2, Cols: 2, Frames: 2,
		BitsAllocated: 8, TransferSyntax: "1.2.840.10008.1.2.4.90", Pixel: func(f, i, s int) int { return 0 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	key, _, _, err := fsStore.Put(ctx, bytes.NewReader(broken))
	if err != nil {
		t.Fatal(err)
	}
	r := &rd.Renderer{Store: st, CacheDir: t.TempDir()}
	for i, q := range []rd.Request{
		{StorageKey: key, Lang: "en", Size: 128},
		{StorageKey: key, Lang: "en", Size: 128},
		{StorageKey: key, Lang: "de", Size: 512, Window: "soft"},
	} {
		res, err := r.Render(ctx, q)
		if err != nil || !res.Unavailable {
			t.Fatalf("render %d: %v %+v", i, err, res)
		}
		if i == 2 && !bytes.Equal(res.Data, rd.Unavailable("de", 512)) {
			t.Fatal("the remembered verdict answers with another language's or size's placeholder")
		}
	}
	if n := st.n.Load(); n != 1 {
		t.Fatalf("the broken frame was read %d times, want once", n)
	}
	if _, err := r.Render(ctx, rd.Request{StorageKey: key, Frame: 1, Lang: "en"}); err != nil || st.n.Load() != 2 {
		t.Fatalf("frame 1 shares frame 0's verdict: %v, %d reads", err, st.n.Load())
	}
	uncached := &rd.Renderer{Store: st}
	for range 2 {
		if _, err := uncached.Render(ctx, rd.Request{StorageKey: key, Lang: "en"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.n.Load(); n != 4 {
		t.Fatalf("%d reads with and without a cache, want 4", n)
	}
}
