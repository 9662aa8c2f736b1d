package departments

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/jpeg" // decoder for uploaded logos
	"image/png"
	"net/http"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/store"
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

// NormalizeLogo checks an uploaded logo by its content (PNG or JPEG, whatever
// its name or declared type), bounds its size and pixel count, decodes it and
// re-encodes it as PNG, so only pixels we produced are ever stored or printed.
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
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.type")
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, 0, 0, err
	}
	if buf.Len() > maxPNG {
		return nil, 0, 0, apperr.Field("logo", "settings.error.logo.size", "Max", MaxLogoBytes>>20)
	}
	b := img.Bounds()
	return buf.Bytes(), b.Dx(), b.Dy(), nil
}

// SetLogo stores the (already normalised) logo of department dept with its
// audit event.
func SetLogo(ctx context.Context, db bun.IDB, actor audit.Actor, dept int64, pngBytes []byte, w, h int) error {
	if len(pngBytes) == 0 {
		return errors.New("departments: empty logo")
	}
	l := &store.DepartmentLogo{DepartmentID: dept, PNG: pngBytes, Width: w, Height: h}
	return store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
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
	return store.InTx(ctx, db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*store.DepartmentLogo)(nil)).Where("department_id = ?", dept).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return actor.Record(ctx, tx, audit.LogoDelete, &dept, nil)
	})
}
