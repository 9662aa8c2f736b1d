package web

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
)

// ParamID reads the positive integer route parameter name (routes declare
// it :name<int>); anything else is a 404, so a wrong id reveals nothing.
func ParamID(c fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.notfound")
	}
	return id, nil
}
