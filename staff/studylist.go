package staff

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/web"
)

// StudyList is the staff landing page.
func (h *Handlers) StudyList(c fiber.Ctx) error {
	web.NoStore(c)
	return web.Render(c, http.StatusOK, "staff/studylist", web.NewPage(c, "studylist.title", nil))
}
