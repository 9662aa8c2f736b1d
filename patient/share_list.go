package patient

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/web"
)

// sharesView is the patient's list of their shares.
type sharesView struct {
	Shares     []buckets.ShareView
	Notice     string
	NoticeWarn bool
	Anonymized bool
}

// Shares lists the access's shares: to whom, until when, opened or not,
// last opened, and a revoke button for each open one.
func (h *Handlers) Shares(c fiber.Ctx) error {
	b := bucketOf(c)
	list, err := h.Buckets.SharesOf(c.Context(), b.ID)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "share.list.title", nil)
	v := sharesView{Shares: list, Anonymized: b.Anonymized}
	switch n := c.Query("notice"); n {
	case "sent", "revoked":
		v.Notice = p.T("share.list.notice." + n)
	case "notsent":
		v.Notice, v.NoticeWarn = p.T("share.list.notice.notsent"), true
	}
	p.Data = v
	return web.Render(c, http.StatusOK, "patient/share_list", p)
}

// ShareRevoke ends one of the access's shares at once.
func (h *Handlers) ShareRevoke(c fiber.Ctx) error {
	id, err := web.ParamID(c, "sid")
	if err != nil {
		return err
	}
	b := bucketOf(c)
	if err := h.Buckets.RevokeShare(c.Context(), actorOf(c, b), b.ID, id); err != nil {
		return err
	}
	return web.Redirect(c, "/p/shares?notice=revoked")
}
