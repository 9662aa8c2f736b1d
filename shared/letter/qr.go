package letter

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/png"
	"sync"

	"github.com/boombuler/barcode/qr"
)

// qrPNG is the QR code of s as a PNG of one pixel per module: the same
// code (boombuler/barcode, level M, automatic mode) and the same pixels
// (Plan 9 palette indexes) as maroto's QR component draws, so the letter
// looks exactly as with that component. It converts the code to the
// palette with image/draw (a nearest-colour search per pixel) and encodes
// the PNG with a new zlib compressor (about 1 MB of state) every time;
// here the pixels are set directly and the encoder's buffers are pooled.
func qrPNG(s string) ([]byte, error) {
	code, err := qr.Encode(s, qr.M, qr.Auto)
	if err != nil {
		return nil, err
	}
	r := code.Bounds()
	img := image.NewPaletted(r, palette.Plan9)
	black, white := qrIndexes()
	i := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if g, ok := color.Gray16Model.Convert(code.At(x, y)).(color.Gray16); ok && g.Y < 0x8000 {
				img.Pix[i] = black
			} else {
				img.Pix[i] = white
			}
			i++
		}
	}
	var buf bytes.Buffer
	buf.Grow(2048)
	if err := qrEncoder.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// qrIndexes are the Plan 9 palette entries image/draw picks for the code's
// black and white modules.
var qrIndexes = sync.OnceValues(func() (black, white uint8) {
	return uint8(color.Palette(palette.Plan9).Index(color.Black)), uint8(color.Palette(palette.Plan9).Index(color.White))
})

var qrEncoder = &png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: &pngBuffers{}}

// pngBuffers lends each PNG encoding its own buffers (with the zlib
// compressor): never one to two encodings at once.
type pngBuffers struct{ p sync.Pool }

func (b *pngBuffers) Get() *png.EncoderBuffer {
	if v, ok := b.p.Get().(*png.EncoderBuffer); ok {
		return v
	}
	return nil
}

func (b *pngBuffers) Put(e *png.EncoderBuffer) { b.p.Put(e) }
