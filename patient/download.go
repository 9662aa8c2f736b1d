package patient

import "github.com/gofiber/fiber/v3"

// Download streams the bucket's DICOM files as a ZIP with a DICOMDIR.
func (h *Handlers) Download(c fiber.Ctx) error {
	return fiber.ErrNotFound // wired to shared/dicomzip when it lands
}
