package letter

import (
	"bytes"
	"errors"
	"image"
	_ "image/jpeg" // DecodeConfig of JPEG logos
	_ "image/png"  // DecodeConfig of PNG logos

	"github.com/johnfercher/maroto/v2/pkg/consts/extension"
)

// The logo box in the letter header: the logo is scaled to fit inside it
// with its aspect kept, flush left above the department's name.
const (
	LogoMaxHeight = 20.0 // mm
	logoCols      = 4    // of 12: 58 mm of the 174 mm text width
	LogoMaxWidth  = 174.0 * logoCols / 12
)

// LogoMaxPixels bounds the logo's width and height in pixels: more adds
// nothing at the printed size and slows every letter down.
const LogoMaxPixels = 2000

// ErrLogo is returned (wrapped in nothing) for a logo the letter cannot use.
var ErrLogo = errors.New("letter: the logo must be a PNG (8-bit, not interlaced) or JPEG image of at most 2000×2000 pixels")

// CheckLogo says whether b can be drawn as the letter's logo: a PNG or JPEG
// that the PDF library reads (no 16-bit or interlaced PNG) and not larger
// than LogoMaxPixels either way. Render refuses a logo that fails it.
func CheckLogo(b []byte) error {
	_, err := logoType(b)
	return err
}

func logoType(b []byte) (extension.Type, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > LogoMaxPixels || cfg.Height > LogoMaxPixels {
		return "", ErrLogo
	}
	switch format {
	case "png":
		// IHDR: bit depth at byte 24, interlace method at byte 28.
		if len(b) < 29 || b[24] > 8 || b[28] != 0 {
			return "", ErrLogo
		}
		return extension.Png, nil
	case "jpeg":
		return extension.Jpg, nil
	}
	return "", ErrLogo
}
