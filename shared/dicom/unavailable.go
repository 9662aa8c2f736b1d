package dicom

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/radpass/radpass/shared/i18n"
)

var (
	fontOnce sync.Once
	fontData *opentype.Font
	naCache  sync.Map // lang|size -> []byte (PNG)
)

// Unavailable returns a PNG saying, in lang, that no preview can be shown
// (pixel data in a transfer syntax we cannot decode). It is drawn once per
// language and size, with the Go font so accents render.
func Unavailable(lang string, size int) []byte {
	return placeholder(lang, size, "dicom.preview.unavailable")
}

// NoPixels returns a PNG saying, in lang, that this kind of object (a
// report, structure set, waveform…) has no image to preview; the object
// itself is stored and can be downloaded.
func NoPixels(lang string, size int) []byte {
	return placeholder(lang, size, "dicom.preview.nopixels")
}

func placeholder(lang string, size int, msg string) []byte {
	if size <= 0 || size > 1024 {
		size = 512
	}
	size = max(size, 64)
	key := msg + "|" + lang + "|" + itoa(size)
	if b, ok := naCache.Load(key); ok {
		return b.([]byte)
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.Gray{Y: 40}}, image.Point{}, draw.Src)
	drawCentered(img, i18n.T(lang, msg), float64(size)/14)
	var buf bytes.Buffer
	if err := Encode(&buf, img, true); err != nil {
		return nil
	}
	b := buf.Bytes()
	naCache.Store(key, b)
	return b
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for n >= 10 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	b[i] = byte('0' + n)
	return string(b[i:])
}

// drawCentered word-wraps text to the image width and centres it.
func drawCentered(img *image.Gray, text string, pt float64) {
	fontOnce.Do(func() { fontData, _ = opentype.Parse(goregular.TTF) })
	if fontData == nil {
		return
	}
	face, err := opentype.NewFace(fontData, &opentype.FaceOptions{Size: pt, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return
	}
	defer face.Close()
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Gray{Y: 220}), Face: face}
	maxW := fixed.I(img.Bounds().Dx() * 85 / 100)
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		try := strings.TrimSpace(line + " " + w)
		if line != "" && d.MeasureString(try) > maxW {
			lines = append(lines, line)
			line = w
			continue
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	m := face.Metrics()
	lh := m.Height.Ceil()
	y := (img.Bounds().Dy()-lh*len(lines))/2 + m.Ascent.Ceil()
	for _, l := range lines {
		d.Dot = fixed.Point26_6{X: (fixed.I(img.Bounds().Dx()) - d.MeasureString(l)) / 2, Y: fixed.I(y)}
		d.DrawString(l)
		y += lh
	}
}
