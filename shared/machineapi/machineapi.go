// Package machineapi is the access API a RIS or EHR calls with a department
// API token (scope "access"): create an access to studies and get its letter,
// read its state, revoke it, extend it (/api/v1/accesses), and the OpenAPI
// description of the whole machine API (/api/v1/openapi.json). Handlers are
// thin: the print rules are buckets.PrintForm.Check and buckets.Create, the
// same as the staff form's; this package adds what only the API has (the
// Idempotency-Key, the sealed number for the letter, problem details).
package machineapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/dicomweb"
)

// Limits of one access API request.
const (
	BodyLimit = 64 << 10 // a JSON request body
	// LetterTTL is how long after its creation the letter of an access can be
	// downloaded: the number is kept sealed that long, then dropped for good
	// (the staff print keeps it while its confirmation is open, 30 minutes).
	LetterTTL = time.Hour
)

// Handler serves /api/v1/accesses.
type Handler struct {
	DB      *bun.DB
	Buckets *buckets.Service
	Key     []byte // the server secret (the number's seal)
	BaseURL string // public URL without the trailing slash: the letter links
	Log     *slog.Logger
}

// admit authenticates the bearer token and wants the access scope: 401, 403.
// ok false: the refusal has been answered, err is what the handler returns.
func (h *Handler) admit(c fiber.Ctx) (m buckets.Machine, ok bool, err error) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	tok, err := dicomweb.Authenticate(c.Context(), h.DB, c.Get(fiber.HeaderAuthorization))
	if errors.Is(err, dicomweb.ErrBadToken) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="radpass"`)
		return m, false, h.problem(c, http.StatusUnauthorized, "unauthorized", "api.problem.unauthorized")
	}
	if err != nil {
		return m, false, h.internal(c, err)
	}
	if !tok.Has(dicomweb.ScopeAccess) {
		return m, false, h.problem(c, http.StatusForbidden, "scope", "api.problem.scope")
	}
	return buckets.Machine{TokenID: tok.ID, Name: tok.Name, DepartmentID: tok.DepartmentID}, true, nil
}

// accessID reads the :id of the route (404 for anything not a positive number).
func (h *Handler) accessID(c fiber.Ctx) (int64, bool) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	return id, err == nil && id > 0
}

// internal logs err and answers 500, or 503 with Retry-After when the
// database is unreachable; never the error's text.
func (h *Handler) internal(c fiber.Ctx, err error) error {
	if isUnavailable(err) {
		c.Set(fiber.HeaderRetryAfter, "5")
		return h.problem(c, http.StatusServiceUnavailable, "unavailable", "api.problem.unavailable")
	}
	if h.Log != nil {
		h.Log.ErrorContext(c.Context(), "access api", "request_id", c.RequestID(), "error", err.Error())
	}
	return h.problem(c, http.StatusInternalServerError, "internal", "api.problem.internal")
}

func isUnavailable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || apperr.IsUnavailable(err)
}

// letterURL is the address of the letter of access id in lang.
func (h *Handler) letterURL(id int64, lang string) string {
	return strings.TrimSuffix(h.BaseURL, "/") + "/api/v1/accesses/" + strconv.FormatInt(id, 10) + "/letter?lang=" + lang
}
