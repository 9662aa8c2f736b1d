package print

import (
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// maxSelection bounds one print: a letter lists its exams on one page.
const maxSelection = 50

// studyIDs reads the repeated study parameter from the query (GET) or the form (POST).
func studyIDs(c fiber.Ctx) ([]int64, error) {
	var raw [][]byte
	if c.Method() == fiber.MethodPost {
		raw = c.Request().PostArgs().PeekMulti("study")
	} else {
		raw = c.Request().URI().QueryArgs().PeekMulti("study")
	}
	if len(raw) == 0 {
		return nil, apperr.New(apperr.Invalid, "print.error.noselection")
	}
	if len(raw) > maxSelection {
		return nil, apperr.New(apperr.Invalid, "print.error.toomany", "Max", maxSelection)
	}
	seen := map[int64]bool{}
	var ids []int64
	for _, r := range raw {
		id, err := strconv.ParseInt(string(r), 10, 64)
		if err != nil || id <= 0 {
			return nil, apperr.New(apperr.NotFound, "error.notfound")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// requestSelection is the selection the request names (study=…), checked
// against the rules of STEP 1 for u.
func (h *Handlers) requestSelection(c fiber.Ctx, u *database.User) (*buckets.Selection, error) {
	ids, err := studyIDs(c)
	if err != nil {
		return nil, err
	}
	return h.Buckets.Select(c.Context(), u, ids)
}
