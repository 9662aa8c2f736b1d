package patient

import (
	"context"

	"errors"
	"net/http"

	"github.com/uptrace/bun"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/web"
)

// shareLinkView is the page a share's link opens: who shares (the
// department) and the patient's note, nothing else before the code.
type shareLinkView struct {
	Token      string
	Department string
	Message    string
	Masked     string // where the code goes
	Channel    string
}

func maskedShare(sh *buckets.Share) string {
	if sh.Channel == "sms" {
		return letter.MaskPhone(sh.Destination)
	}
	return letter.MaskEmail(sh.Destination)
}

// shareGone is the one answer for a link that does not open (unknown,
// revoked, blocked, expired, its access ended): 404, the same page.
func (h *Handlers) shareGone(c fiber.Ctx) error {
	p := web.NewPage(c, "share.doctor.gone.title", nil)
	p.Back = "/"
	return web.Render(c, http.StatusNotFound, "patient/share_gone", p)
}

// ShareLink shows what a share's link opens; it changes nothing (a mail
// scanner that follows links sends no code).
func (h *Handlers) ShareLink(c fiber.Ctx) error {
	web.NoStore(c)
	sh, b, err := h.Buckets.OpenShare(c.Context(), c.Params("token"))
	if errors.Is(err, buckets.ErrNotFound) {
		return h.shareGone(c)
	}
	if err != nil {
		return err
	}
	p := web.NewPage(c, "share.doctor.title", nil)
	p.Back = "/" // the token stays out of the language switch
	p.Data = shareLinkView{Token: c.Params("token"), Department: b.Department.Name, Message: sh.Message,
		Masked: maskedShare(sh), Channel: sh.Channel}
	return web.Render(c, http.StatusOK, "patient/share_link", p)
}

// ShareStart binds a fresh session to the link's share and sends the
// doctor a code (to the address or number on file, never one from the
// request), then asks for it.
func (h *Handlers) ShareStart(c fiber.Ctx) error {
	sh, _, err := h.Buckets.OpenShare(c.Context(), c.Params("token"))
	if errors.Is(err, buckets.ErrNotFound) {
		return h.shareGone(c)
	}
	if err != nil {
		return err
	}
	s, err := h.Sessions.Renew(c)
	if err != nil {
		return err
	}
	s.Values[sessShare], s.Values[sessBucket], s.Values[sessStage] = sh.ID, sh.BucketID, StageShareCode
	if err := h.Sessions.Save(c, s); err != nil {
		return err
	}
	notice := h.sendShareCode(c, sh)
	if notice == noticeClosed {
		return h.shareGone(c)
	}
	to := "/s/code"
	if notice != "" {
		to += "?notice=" + notice
	}
	return web.Redirect(c, to)
}

// sendShareCode sends share sh a code; "" when it went out, else the
// notice to show (noticeClosed when the share no longer opens).
func (h *Handlers) sendShareCode(c fiber.Ctx, sh *buckets.Share) string {
	err := h.Buckets.SendShareCode(c.Context(), h.ShareSender, sh.ID, c.IP())
	var se *buckets.SendError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, buckets.ErrCooldown):
		return "cooldown"
	case errors.Is(err, buckets.ErrShareSendLimit):
		return "daylimit"
	case errors.Is(err, buckets.ErrShareAddressLimit):
		return "addresslimit"
	case errors.Is(err, buckets.ErrNotFound):
		return noticeClosed
	case !errors.As(err, &se):
		h.Log.ErrorContext(c.Context(), "share code failed", "request_id", c.RequestID(), "share_id", sh.ID, "error", err.Error())
		return "notsent"
	}
	if se.Send != nil {
		h.Log.WarnContext(c.Context(), "share code not sent", "request_id", c.RequestID(), "share_id", sh.ID, "channel", se.Channel, "error", se.Send.Error())
	}
	if se.Record != nil {
		h.Log.ErrorContext(c.Context(), "record share code failed", "request_id", c.RequestID(), "share_id", sh.ID, "error", se.Record.Error())
	}
	if !se.Sent() {
		return "notsent"
	}
	return ""
}

// shareCodeView is the doctor's code page.
type shareCodeView struct {
	Department string
	Masked     string
	Channel    string
	Notice     string
}

func (h *Handlers) shareCodePage(c fiber.Ctx, notice string) *web.Page {
	sh, _ := c.Locals(localShareRow).(*buckets.Share)
	b, _ := c.Locals(localShareBucket).(*database.Bucket)
	p := web.NewPage(c, "share.doctor.title", nil)
	v := shareCodeView{Department: b.Department.Name, Masked: maskedShare(sh), Channel: sh.Channel}
	switch notice {
	case "cooldown", "daylimit", "notsent", "resent":
		v.Notice = p.T("share.doctor.notice." + notice)
	case "addresslimit":
		v.Notice = p.T("share.doctor.notice.addresslimit", "Max", buckets.MaxShareCodesPerAddressDay)
	}
	p.Data = v
	return p
}

// ShareCodeForm asks the doctor for the code just sent.
func (h *Handlers) ShareCodeForm(c fiber.Ctx) error {
	return web.Render(c, http.StatusOK, "patient/share_code", h.shareCodePage(c, c.Query("notice")))
}

// ShareResend sends a new code (the old one stops working; the share's
// counter stays).
func (h *Handlers) ShareResend(c fiber.Ctx) error {
	sh, _ := c.Locals(localShareRow).(*buckets.Share)
	notice := h.sendShareCode(c, sh)
	switch notice {
	case noticeClosed:
		_ = h.Sessions.Destroy(c)
		return h.shareGone(c)
	case "":
		notice = "resent"
	}
	status := http.StatusOK
	if notice == "cooldown" || notice == "daylimit" || notice == "addresslimit" {
		status = http.StatusTooManyRequests
	} else if notice == "notsent" {
		status = http.StatusServiceUnavailable
	}
	return web.Render(c, status, "patient/share_code", h.shareCodePage(c, notice))
}

// ShareCheck compares the doctor's code: right signs the doctor in to the
// share (a new session id, committed with the "share.open" row), wrong
// counts on the share alone, the fifth blocks the share (and its next
// answer is the one for every link that does not open).
func (h *Handlers) ShareCheck(c fiber.Ctx) error {
	sh, _ := c.Locals(localShareRow).(*buckets.Share)
	answer := func() {}
	a, err := h.Buckets.CheckShareCode(c.Context(), sh.ID, c.FormValue("code"), c.IP(), func(ctx context.Context, tx bun.Tx, a *buckets.ShareAttempt) error {
		w := &buckets.Batch{Tx: tx}
		var err error
		// The doctor's device goes on the "share.open" row (the last audit
		// row of this transaction) for the patient's activity list.
		if h.Informed != nil {
			if err := w.Add(informed.SignInDeviceQuery(w.On(), a.Bucket.ID, informed.ParseDevice(c.Get(fiber.HeaderUserAgent)))); err != nil {
				return err
			}
		}
		if answer, err = h.startShareSession(c, w, a.Share); err != nil {
			return err
		}
		return w.Flush(ctx)
	})
	if errors.Is(err, buckets.ErrNotFound) {
		_ = h.Sessions.Destroy(c)
		return h.shareGone(c)
	}
	if err != nil {
		return err
	}
	if a.Open {
		answer()
		return web.Redirect(c, "/p/")
	}
	if a.JustBlocked {
		_ = h.Sessions.Destroy(c)
		return h.shareGone(c)
	}
	p := h.shareCodePage(c, "")
	p.AddError("code", "share.doctor.error.code", "Left", a.Left)
	return web.Render(c, http.StatusUnprocessableEntity, "patient/share_code", p)
}

// startShareSession binds a fresh session id to share sh at StageShare,
// its writes queued on w.
func (h *Handlers) startShareSession(c fiber.Ctx, w *buckets.Batch, sh *buckets.Share) (answer func(), err error) {
	s, err := h.Sessions.Get(c)
	if err != nil {
		return nil, err
	}
	st := *h.Sessions.Store
	st.DB, st.Queue = w.On(), w.Add
	if err := st.Regenerate(c.Context(), s); err != nil {
		return nil, err
	}
	for k := range s.Values {
		delete(s.Values, k)
	}
	opts := st.Options
	s.Options = &opts
	s.IsNew = true
	s.Values[sessShare], s.Values[sessBucket], s.Values[sessStage] = sh.ID, sh.BucketID, StageShare
	return h.Sessions.SaveIn(c, s, w.On(), w.Add)
}
