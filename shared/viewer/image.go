package viewer

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/web"
)

// SendImage answers one rendered frame of a stored instance whose access was
// checked: ?f=frame&w=window&size=N&fmt=png. Renderings are cached on disk
// on the server; the browser must not keep them (security requirement 12),
// though an ETag still gets a 304.
func SendImage(c fiber.Ctx, r *dicom.Renderer, storageKey string, frames int) error {
	frame, err := strconv.Atoi(c.Query("f", "0"))
	if err != nil || frame < 0 || frame >= max(frames, 1) {
		return fiber.ErrNotFound
	}
	size, err := strconv.Atoi(c.Query("size", "0"))
	if err != nil || size < 0 || size > dicom.MaxSize {
		return apperr.New(apperr.Invalid, "dicom.error.size")
	}
	res, err := r.Render(c.Context(), dicom.Request{
		StorageKey: storageKey, Frame: frame, Window: c.Query("w"), Size: size,
		PNG: c.Query("fmt") == "png", Lang: web.Lang(c),
	})
	switch {
	case errors.Is(err, dicom.ErrBadWindow):
		return apperr.New(apperr.Invalid, "dicom.error.window")
	case errors.Is(err, dicom.ErrFrame):
		return fiber.ErrNotFound
	case err != nil:
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderETag, res.ETag)
	c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	if c.Get(fiber.HeaderIfNoneMatch) == res.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, res.ContentType)
	return c.Send(res.Data)
}
