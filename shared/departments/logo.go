package departments

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoder for uploaded logos
	"image/png"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/image/draw"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/letter"
)

// Logo limits: the upload's size, and the pixels decoded (checked from the
// header before any decoding, so a small file cannot claim a huge image).
const (
	MaxLogoBytes  = 2 << 20
	MaxLogoPixels = 2_500_000
	MaxLogoSide   = 4000
	// maxPNG is the schema's bound on the stored PNG.
	maxPNG = 4 << 20
)

// LogoWorkers is how many logos are decoded and re-encoded at once: a large
// one takes a second of CPU and tens of MB, and an upload is rare, so two
// are plenty (100 uploads decoded at once take 2.1 GB and stall the server).
// LogoWait is how long an upload waits for a turn before it is told the
// server is busy (503, try again).
const (
	LogoWorkers = 2
	LogoWait    = 10 * time.Second
)

var (
	logoSlots                  = make(chan struct{}, LogoWorkers)
	converting, peakConverting atomic.Int64
)

// LogoPeak is the most logos that were ever decoded and re-encoded at the
// same time since start (tests, diagnostics).
func LogoPeak() int64 { return peakConverting.Load() }

// ErrLogoBusy: no turn came free within LogoWait. Handlers answer 503 with
// its message next to the logo field.
var ErrLogoBusy = apperr.Field("logo", "settings.error.logo.busy")

// LogoTurn waits (at most LogoWait, or until ctx ends) for a turn to read
// and convert an uploaded logo; release ends it. Take it before reading the
// upload, so only LogoWorkers uploads are ever copied and decoded at once.
func LogoTurn(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(LogoWait)
	defer t.Stop()
	select {
	case logoSlots <- struct{}{}:
		return func() { <-logoSlots }, nil
	case <-t.C:
		return nil, ErrLogoBusy
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errPNGTooLarge stops the encoder once the PNG outgrows maxPNG.
var errPNGTooLarge = errors.New("departments: logo PNG too large")

// cappedBuffer is a bytes.Buffer that refuses to grow past max: a noisy
// photo that would make a PNG of many MB stops at max, not at its end.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errPNGTooLarge
	}
	return b.Buffer.Write(p)
}

// NormalizeLogo checks an uploaded logo by its content (PNG or JPEG, whatever
// its name or declared type), bounds its size and pixel count from the header
// before anything is decoded, decodes it and re-encodes it as PNG, so only
// pixels we produced are ever stored or printed. The PNG is written with the
// default compression and given up as soon as it outgrows what is stored
// (a photo's noise makes a PNG larger than its JPEG). Callers hold a
// LogoTurn.
func NormalizeLogo(data []byte) (pngBytes []byte, w, h int, err error) {
	if len(data) == 0 {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.empty")
	}
	if len(data) > MaxLogoBytes {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.size", "Max", MaxLogoBytes>>20)
	}
	ct := http.DetectContentType(data)
	if ct != "image/png" && ct != "image/jpeg" {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.type")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") || "image/"+format != ct {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.type")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxLogoSide || cfg.Height > MaxLogoSide ||
		cfg.Width*cfg.Height > MaxLogoPixels {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.pixels", "Max", MaxLogoSide)
	}
	n := converting.Add(1)
	defer converting.Add(-1)
	for p := peakConverting.Load(); n > p && !peakConverting.CompareAndSwap(p, n); p = peakConverting.Load() {
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.type")
	}
	img = forLetter(img)
	buf := &cappedBuffer{max: maxPNG}
	buf.Grow(min(len(data)*2, maxPNG))
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(buf, img); errors.Is(err, errPNGTooLarge) {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.detail", "Max", maxPNG>>20)
	} else if err != nil {
		return nil, 0, 0, err
	}
	// The letter refuses what it cannot draw; a logo stored anyway would
	// make every print of the department fail.
	if err := letter.CheckLogo(buf.Bytes()); err != nil {
		return nil, 0, 0, fmt.Errorf("departments: normalised logo unusable: %w", err)
	}
	b := img.Bounds()
	return buf.Bytes(), b.Dx(), b.Dy(), nil
}

// forLetter makes a decoded logo one the letter can draw: at most
// letter.LogoMaxPixels on either side (scaled down, proportions kept:
// uploads may be up to MaxLogoSide wide) and 8 bits per sample (the PDF
// library reads no 16-bit PNG, and Go writes one for a 16-bit image and
// for every JPEG, so a JPEG logo stored as decoded would make every letter
// of its department fail).
func forLetter(img image.Image) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w > letter.LogoMaxPixels || h > letter.LogoMaxPixels {
		scale := float64(letter.LogoMaxPixels) / float64(max(w, h))
		w, h = max(1, int(float64(w)*scale+0.5)), max(1, int(float64(h)*scale+0.5))
		dst := image.NewNRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		return dst
	}
	// Go's PNG encoder writes 8 bits only for these colour models; any
	// other (a JPEG's YCbCr or CMYK, 16-bit PNGs) it writes with 16.
	switch img.ColorModel() {
	case color.GrayModel, color.RGBAModel, color.NRGBAModel, color.AlphaModel:
		return img
	}
	if _, ok := img.(*image.Paletted); ok {
		return img
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}

// SetLogo stores the (already normalised) logo of department dept with its
// audit event.
func SetLogo(ctx context.Context, db bun.IDB, actor audit.Actor, dept int64, pngBytes []byte, w, h int) error {
	if len(pngBytes) == 0 {
		return errors.New("departments: empty logo")
	}
	l := &database.DepartmentLogo{DepartmentID: dept, PNG: pngBytes, Width: w, Height: h}
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(l).
			On("CONFLICT (department_id) DO UPDATE").
			Set("png = EXCLUDED.png, width = EXCLUDED.width, height = EXCLUDED.height, updated_at = now()").Exec(ctx)
		if err != nil {
			return err
		}
		return actor.Record(ctx, tx, audit.LogoUpdate, &dept, map[string]any{"width": w, "height": h, "bytes": len(pngBytes)})
	})
}

// DeleteLogo removes the department's logo (the letter then has none).
func DeleteLogo(ctx context.Context, db bun.IDB, actor audit.Actor, dept int64) error {
	return database.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*database.DepartmentLogo)(nil)).Where("department_id = ?", dept).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return actor.Record(ctx, tx, audit.LogoDelete, &dept, nil)
	})
}
