package letter_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/letter"
)

// transparentLogo is a w×h PNG with an alpha channel (stripes of fully
// transparent pixels), the kind of logo the PDF library has to split into
// colour and soft mask.
func transparentLogo(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := uint8(255)
			if (x/10+y/10)%3 == 0 {
				a = 0
			}
			img.Set(x, y, color.NRGBA{R: uint8(x), G: 40, B: uint8(y), A: a})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The PDF library keeps what it parsed from fonts and images for the next
// letters (parsed once per process; see third_party/gofpdf/README.md): a
// letter rendered again, or in parallel with others, must be the first one,
// whatever its logo: same PDF version and transparency group, same size
// (gofpdf writes the fonts in map order, so bytes may be shuffled), same
// pixels. The first rendering of each variant here is the one that parses.
func TestLetterRenderedAgainIsTheSameNoRace(t *testing.T) {
	variants := []struct {
		name string
		logo []byte
	}{
		{"no logo", nil},
		{"opaque logo", pngLogo(t, 240, 80)},
		{"transparent logo", transparentLogo(t, 300, 120)},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			l := sample(t, "de")
			l.Logo = v.logo
			first, err := letter.Render(l)
			if err != nil {
				t.Fatal(err)
			}
			if v.name == "transparent logo" {
				// A soft mask needs PDF 1.4 and a transparency group.
				if !bytes.HasPrefix(first, []byte("%PDF-1.4")) || !bytes.Contains(first, []byte("/S /Transparency")) {
					t.Fatalf("a transparent logo without PDF 1.4 and a transparency group: %q", first[:8])
				}
			}
			const workers = 4
			got := make([][]byte, workers)
			var wg sync.WaitGroup
			for w := range got {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					pdf, err := letter.Render(l)
					if err != nil {
						t.Error(err)
						return
					}
					got[w] = pdf
				}(w)
			}
			wg.Wait()
			want := raster(t, first)
			for w, g := range got {
				if g == nil {
					continue
				}
				if !bytes.Equal(g[:8], first[:8]) || bytes.Contains(g, []byte("/S /Transparency")) != bytes.Contains(first, []byte("/S /Transparency")) {
					t.Errorf("rendering %d: header %q, transparency group %v; first: %q, %v", w+2,
						g[:8], bytes.Contains(g, []byte("/S /Transparency")), first[:8], bytes.Contains(first, []byte("/S /Transparency")))
				}
				if len(g) != len(first) {
					t.Errorf("rendering %d has %d bytes, the first %d", w+2, len(g), len(first))
				}
				if !bytes.Equal(raster(t, g), want) {
					t.Errorf("rendering %d rasterises differently from the first", w+2)
				}
			}
		})
	}
}

// BenchmarkLetterPDFWithTransparentLogo is BenchmarkLetterPDF with a
// 600×200 logo that has an alpha channel.
func BenchmarkLetterPDFWithTransparentLogo(b *testing.B) {
	l := sample(b, "fr")
	l.Logo = transparentLogo(b, 600, 200)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := letter.Render(l); err != nil {
			b.Fatal(err)
		}
	}
}
