package staff

import "github.com/gofiber/fiber/v3"

// registerDICOM mounts the study detail and image routes (signed-in staff).
func (h *Handlers) registerDICOM(in fiber.Router) {
	in.Get("/studies/:id<int>", h.Study)
	in.Get("/studies/:id<int>/report", h.StudyReportPDF)
	in.Get("/images/:id<int>", h.Image)
	in.Get("/instances/:id<int>/dicom", h.InstanceDownload)
}
