package staff

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// registerDICOM mounts the study detail and image routes (signed-in staff).
// None answers a request started by another site.
func (h *Handlers) registerDICOM(in fiber.Router) {
	in.Get("/studies/:id<int>", web.SameOriginOnly, h.Study)
	in.Get("/studies/:id<int>/report", web.SameOriginOnly, h.StudyReportPDF)
	in.Get("/images/:id<int>", web.SameOriginOnly, h.Image)
	in.Get("/instances/:id<int>/dicom", web.SameOriginOnly, h.InstanceDownload)
}
