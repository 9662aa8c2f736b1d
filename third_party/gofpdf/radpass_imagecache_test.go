package gofpdf

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"sync"
	"testing"
	"time"
)

func clearParsedImages() {
	parsedImages.Lock()
	parsedImages.list, parsedImages.bytes = nil, 0
	parsedImages.Unlock()
}

func parsedImageCount() int {
	parsedImages.Lock()
	defer parsedImages.Unlock()
	return len(parsedImages.list)
}

// testImages are small images of each kind gofpdf parses itself: PNG
// with and without an alpha channel, grey and paletted, and JPEG; seed
// makes them differ.
func testImages(t *testing.T, seed int) map[string][]byte {
	const w, h = 90, 40
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	opaque := image.NewRGBA(image.Rect(0, 0, w, h))
	grey := image.NewGray(image.Rect(0, 0, w, h))
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White, color.RGBA{200, 30, 30, 255}})
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{R: uint8(x * 3), G: uint8(seed), B: uint8(y * 6), A: uint8((x + y) * 3)}
			rgba.Set(x, y, c)
			c.A = 255
			opaque.Set(x, y, c)
			grey.Set(x, y, c)
			pal.SetColorIndex(x, y, uint8((x/7+y/5+seed)%3))
		}
	}
	out := map[string][]byte{}
	for name, img := range map[string]image.Image{"png alpha": rgba, "png": opaque, "png grey": grey, "png palette": pal} {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		out[name] = b.Bytes()
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, opaque, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	out["jpg"] = b.Bytes()
	return out
}

func imageType(name string) string { return name[:3] }

// imageDoc places img on a page of a document in unit, protected or not.
func imageDoc(unit string, protect bool, tp string, img []byte, readDpi bool) ([]byte, error) {
	pdf := New("P", unit, "A4", "")
	pdf.SetCreationDate(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	pdf.SetModificationDate(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	pdf.SetCatalogSort(true)
	if protect {
		pdf.SetProtection(0, "user", "owner")
	}
	pdf.AddPage()
	opt := ImageOptions{ImageType: tp, ReadDpi: readDpi}
	pdf.RegisterImageOptionsReader("logo", opt, bytes.NewReader(img))
	pdf.ImageOptions("logo", 10, 10, 50, 0, false, opt, 0, "")
	var b bytes.Buffer
	err := pdf.Output(&b)
	return b.Bytes(), err
}

// A document whose image was parsed before (by a document in another unit,
// with or without ReadDpi, or at the same time) must be the document that
// parsed it; an alpha channel still makes it PDF 1.4.
func TestParsedImageGivesTheSameDocument(t *testing.T) {
	type variant struct {
		unit    string
		readDpi bool
	}
	variants := []variant{{"mm", false}, {"pt", false}, {"mm", true}, {"in", true}}
	for name, img := range testImages(t, 1) {
		cold := map[variant][]byte{}
		for _, v := range variants {
			clearParsedImages()
			pdf, err := imageDoc(v.unit, false, imageType(name), img, v.readDpi)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			cold[v] = pdf
		}
		clearParsedImages()
		for round := 0; round < 2; round++ {
			var wg sync.WaitGroup
			errs := make(chan error, 2*len(variants))
			for _, v := range variants {
				for g := 0; g < 2; g++ {
					wg.Add(1)
					go func(v variant) {
						defer wg.Done()
						pdf, err := imageDoc(v.unit, false, imageType(name), img, v.readDpi)
						if err == nil && !bytes.Equal(pdf, cold[v]) {
							err = fmt.Errorf("%s in %s (ReadDpi %v), round %d: differs from the document that parsed the image alone", name, v.unit, v.readDpi, round)
						}
						if err == nil && name == "png alpha" && !bytes.HasPrefix(pdf, []byte("%PDF-1.4")) {
							err = fmt.Errorf("%s: an alpha channel without PDF 1.4: %q", name, pdf[:8])
						}
						if err != nil {
							errs <- err
						}
					}(v)
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		}
		if n := parsedImageCount(); n != len(variants) {
			t.Errorf("%s: %d parses kept for %d variants", name, n, len(variants))
		}
	}
}

// A protected document encrypts a copy of an image's data, which every
// document that uses the image shares.
func TestProtectedDocumentLeavesParsedImageAlone(t *testing.T) {
	for name, img := range testImages(t, 2) {
		clearParsedImages()
		plain, err := imageDoc("mm", false, imageType(name), img, false)
		if err != nil {
			t.Fatal(err)
		}
		protected, err := imageDoc("mm", true, imageType(name), img, false)
		if err != nil {
			t.Fatal(err)
		}
		again, err := imageDoc("mm", false, imageType(name), img, false)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, plain) {
			t.Errorf("%s: a protected document changed the image of the next document", name)
		}
		clearParsedImages()
		cold, err := imageDoc("mm", true, imageType(name), img, false)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(protected, cold) {
			t.Errorf("%s: a protected document with the image parsed before differs from one that parsed it", name)
		}
	}
}

// At most maxParsedImages images are kept.
func TestParsedImagesBounded(t *testing.T) {
	clearParsedImages()
	for seed := 0; seed < maxParsedImages+3; seed++ {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		img.Pix[0] = uint8(seed)
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if _, err := imageDoc("mm", false, "png", b.Bytes(), false); err != nil {
			t.Fatal(err)
		}
	}
	if n := parsedImageCount(); n != maxParsedImages {
		t.Errorf("%d images kept, want %d", n, maxParsedImages)
	}
}
