package statusfw

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/web"
)

// sharesView is a bucket's shares with doctors, for staff.
type sharesView struct {
	BucketID int64
	Shares   []buckets.ShareView
	Revoked  bool
	Manage   bool // the user may revoke (buckets.CanManage)
}

// Shares is GET /staff/status/:id/shares: who the patient shared with,
// until when, opened or not; open shares can be revoked.
func (h *Handlers) Shares(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	u := web.CurrentUser(c)
	b, err := h.Buckets.ForStaff(c.Context(), u, id)
	if err != nil {
		return err
	}
	list, err := h.Buckets.SharesOf(c.Context(), id)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "share.staff.title", nil)
	p.Data = sharesView{BucketID: id, Shares: list, Revoked: c.Query("done") == "revoked", Manage: buckets.CanManage(u, b)}
	return web.Render(c, http.StatusOK, "staff/share_list", p)
}

// ShareRevoke is POST /staff/status/:id/shares/:sid/revoke.
func (h *Handlers) ShareRevoke(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	sid, err := web.ParamID(c, "sid")
	if err != nil {
		return err
	}
	if err := h.Buckets.RevokeShareStaff(c.Context(), web.CurrentUser(c), id, sid, c.IP()); err != nil {
		return err
	}
	return web.Redirect(c, "/staff/status/"+strconv.FormatInt(id, 10)+"/shares?done=revoked")
}
