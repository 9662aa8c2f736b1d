package machineapi

import (
	_ "embed"

	"github.com/gofiber/fiber/v3"
)

// openAPI is the OpenAPI 3.1 description of the machine API: STOW-RS, the
// report upload and the access API (checked against real answers by
// TestOpenAPIMatchesAnswers).
//
//go:embed openapi.json
var openAPI []byte

// OpenAPIDocument is the description as served.
func OpenAPIDocument() []byte { return openAPI }

// OpenAPI is GET /api/v1/openapi.json (public: it describes, it holds no data).
func OpenAPI(c fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(openAPI)
}
