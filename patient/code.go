package patient

import (
	"context"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/web"
)

// codeView is the one-time-password page.
type codeView struct {
	Channel  string // sms or email
	Masked   string
	Left     int // attempts left before the block
	Notice   string
	Attempts int
}

func masked(b *database.Bucket) string {
	if b.Verification == database.VerifySMS {
		return letter.MaskPhone(b.Destination)
	}
	return letter.MaskEmail(b.Destination)
}

func (h *Handlers) codePage(c fiber.Ctx, b *database.Bucket, notice string) *web.Page {
	p := web.NewPage(c, "patient.code.title", nil)
	v := codeView{Channel: b.Verification, Masked: masked(b), Left: buckets.MaxFailures - b.Failures}
	if notice != "" {
		v.Notice = p.T(notice)
	}
	p.Data = v
	return p
}

// CodeForm asks for the code just sent.
func (h *Handlers) CodeForm(c fiber.Ctx) error {
	notice := ""
	switch n := c.Query("notice"); n {
	case "notsent", "cooldown", "daylimit", "iplimit", "country":
		notice = "patient.code." + n
	}
	return web.Render(c, http.StatusOK, "patient/code", h.codePage(c, bucketOf(c), notice))
}

// CheckCode compares the typed code: right opens the bucket (with a new
// session id), wrong counts a failure, the fifth blocks.
func (h *Handlers) CheckCode(c fiber.Ctx) error {
	b := bucketOf(c)
	// A right code's session row commits with its "signin ok" audit row.
	var to string
	answer := func() {}
	a, err := h.Buckets.CheckOTPThen(c.Context(), b.ID, c.FormValue("code"), c.IP(), func(ctx context.Context, tx bun.Tx, a *buckets.Attempt) error {
		if a.Outcome != buckets.Open {
			return nil
		}
		w := &buckets.Batch{Tx: tx}
		var err error
		if answer, err = h.startSessionTx(c, tx, w, a.Bucket, StageIn); err != nil {
			return err
		}
		if err = h.queueSignInDevice(c, w, a.Bucket.ID); err != nil {
			return err
		}
		if to, err = h.insideTarget(ctx, tx, a.Bucket); err != nil {
			return err
		}
		return w.Flush(ctx)
	})
	if err != nil {
		return err
	}
	answer() // committed: the browser gets the new session's cookie
	switch a.Outcome {
	case buckets.Open:
		return h.toInside(c, a.Bucket, to)
	case buckets.Blocked, buckets.Expired, buckets.Revoked:
		return h.renderClosed(c, a.Outcome, a.Bucket)
	}
	p := h.codePage(c, a.Bucket, "")
	p.AddError("code", "patient.error.code", "Left", buckets.MaxFailures-a.Bucket.Failures)
	if p.HTMX {
		return web.RenderPartial(c, http.StatusUnprocessableEntity, "partials/patient_code", p)
	}
	return web.Render(c, http.StatusUnprocessableEntity, "patient/code", p)
}

// Resend sends a new code (the old one stops working; the counter stays).
func (h *Handlers) Resend(c fiber.Ctx) error {
	b := bucketOf(c)
	status := http.StatusOK
	notice := h.send(c, b)
	if notice == noticeClosed {
		return h.closedSince(c, b.ID)
	}
	if notice == "" {
		notice = "patient.code.resent"
	} else {
		status = http.StatusTooManyRequests
		if notice == "patient.code.notsent" {
			status = http.StatusServiceUnavailable
		}
	}
	p := h.codePage(c, b, notice)
	if p.HTMX {
		return web.RenderPartial(c, status, "partials/patient_code", p)
	}
	return web.Render(c, status, "patient/code", p)
}

// noticeClosed is what send returns when the bucket stopped opening between
// the session check and the send (blocked by a wrong code in another tab,
// revoked, expired at midnight): no code, and nothing "could not be sent".
const noticeClosed = "closed"

// closedSince answers a request whose bucket closed while it ran: the page
// that says why (as at sign-in), the session ended.
func (h *Handlers) closedSince(c fiber.Ctx, id int64) error {
	b, err := h.Buckets.Get(c.Context(), id)
	if errors.Is(err, buckets.ErrNotFound) {
		if err := h.Sessions.Destroy(c); err != nil {
			return err
		}
		return h.signedOut(c)
	}
	if err != nil {
		return err
	}
	o := buckets.Blocked
	switch b.EffectiveState(h.Buckets.Today()) {
	case database.BucketRevoked:
		o = buckets.Revoked
	case database.BucketExpired:
		o = buckets.Expired
	}
	return h.renderClosed(c, o, b)
}

// send issues a code for b and sends it to the destination on file
// (buckets.SendCode). It returns "" when the code went out, else the i18n
// key of what to tell the patient; a failed send is logged without the code
// or the destination.
func (h *Handlers) send(c fiber.Ctx, b *database.Bucket) string {
	ctx := c.Context()
	err := h.Buckets.SendCode(ctx, h.Notify, b.ID, c.IP())
	var se *buckets.SendError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, buckets.ErrCooldown):
		return "patient.code.cooldown"
	case errors.Is(err, buckets.ErrSendLimit):
		return "patient.code.daylimit"
	case errors.Is(err, buckets.ErrIPLimit):
		return "patient.code.iplimit"
	case errors.Is(err, buckets.ErrCountry):
		return "patient.code.country"
	case errors.Is(err, buckets.ErrNotActive), errors.Is(err, buckets.ErrNotFound):
		return noticeClosed
	case !errors.As(err, &se):
		h.Log.ErrorContext(ctx, "issue code failed", "request_id", c.RequestID(), "bucket_id", b.ID, "error", err.Error())
		return "patient.code.notsent"
	}
	if se.Send != nil {
		h.Log.WarnContext(ctx, "code not sent", "request_id", c.RequestID(), "bucket_id", b.ID, "channel", se.Channel, "error", se.Send.Error())
	}
	if se.Record != nil {
		h.Log.ErrorContext(ctx, "record code send failed", "request_id", c.RequestID(), "bucket_id", b.ID, "error", se.Record.Error())
	}
	if !se.Sent() {
		return "patient.code.notsent"
	}
	return ""
}
