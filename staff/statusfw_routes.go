package staff

import (
	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// registerStatusForwarding mounts Status Forwarding (the bucket list and its
// actions) and the study access log export (signed-in staff; every handler
// checks who may do what).
func (h *Handlers) registerStatusForwarding(in fiber.Router) {
	in.Get("/status", h.StatusForwarding)
	in.Get("/status/:id/row", h.StatusForwardingRow)
	for _, a := range bucketActions {
		in.Get("/status/:id/"+a.name, h.BucketActionForm(a))
		in.Post("/status/:id/"+a.name, h.BucketActionSubmit(a))
	}
	in.Get("/studies/:id/access.csv", web.SameOriginOnly, h.StudyAccessCSV)
}
