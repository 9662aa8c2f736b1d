package patient

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/web"
)

// activityView is the "Activity" page of an access, or one more page of
// its list (htmx).
type activityView struct {
	Rows      []activityRow
	Next      int64 // the id to continue before; 0: no more
	Alert     bool  // the new-device alert is on
	CanAlert  bool  // the access has a contact to alert
	Masked    string
	AlertDone string
}

// activityRow is one line, written for the patient: no address, ever.
type activityRow struct {
	When   string
	ISO    string
	What   string
	Who    string
	Device string
}

// Activity lists who signed in to this access and what they saw, newest
// first, ActivityPage at a time; ?before= pages on (htmx appends the rows).
func (h *Handlers) Activity(c fiber.Ctx) error {
	b := bucketOf(c)
	if h.Informed == nil {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	if before < 0 {
		before = 0
	}
	entries, next, err := h.Informed.Activity(c.Context(), b.ID, before, informed.ActivityPage)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "informed.activity.title", nil)
	v := &activityView{Next: next}
	zone := h.Buckets.Zone
	if zone == nil {
		zone = time.Local
	}
	shares := map[int64]string{}
	for _, e := range entries {
		r := activityRow{When: informed.FormatTime(p.Lang, e.At.In(zone)), ISO: e.At.UTC().Format(time.RFC3339),
			What: p.T("informed.what." + e.What())}
		switch e.ActorKind {
		case audit.KindPatient:
			r.Who = p.T("informed.who.you")
		default:
			r.Who = p.T("informed.who.share")
			if id := shareID(e); id > 0 {
				to, ok := shares[id]
				if !ok {
					to = h.Informed.ShareRecipient(c.Context(), b.ID, id)
					shares[id] = to
				}
				if to != "" {
					r.Who = p.T("informed.who.shareto", "To", to)
				}
			}
		}
		if e.What() == informed.WhatSignIn {
			r.Device = p.T("informed.device.unknown")
			if d, ok := informed.DeviceFromString(e.Device); ok {
				r.Device = d.Label(p.T)
			}
		}
		v.Rows = append(v.Rows, r)
	}
	if p.HTMX && before > 0 {
		p.Data = v
		return web.RenderPartial(c, http.StatusOK, "partials/activity_rows", p)
	}
	st, err := informed.BucketSettings(c.Context(), h.Buckets.DB, b.ID)
	if err != nil {
		return err
	}
	ch, to := informed.Contact(b, st)
	v.CanAlert, v.Alert = ch != "", st.DeviceAlert
	if v.CanAlert {
		v.Masked = maskedContact(ch, to)
	}
	switch c.Query("done") {
	case "on", "off":
		v.AlertDone = p.T("informed.alert.done." + c.Query("done"))
	}
	p.Data = v
	return web.Render(c, http.StatusOK, "patient/activity", p)
}

// SetAlert switches the new-device alert on or off (the patient's choice),
// recorded in the audit trail with the change.
func (h *Handlers) SetAlert(c fiber.Ctx) error {
	b := bucketOf(c)
	if h.Informed == nil {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
	st, err := informed.BucketSettings(c.Context(), h.Buckets.DB, b.ID)
	if err != nil {
		return err
	}
	if ch, _ := informed.Contact(b, st); ch == "" {
		return apperr.New(apperr.NotFound, "error.notfound")
	}
	on := c.FormValue("alert") == "1"
	if err := h.Informed.SetDeviceAlert(c.Context(), b.ID, on, c.IP()); err != nil {
		return err
	}
	done := "off"
	if on {
		done = "on"
	}
	return web.Redirect(c, "/p/activity?done="+done)
}

// queueSignInDevice adds the sign-in's device (and, for a new one, the
// alert's job) to the sign-in's own writes.
func (h *Handlers) queueSignInDevice(c fiber.Ctx, w *buckets.Batch, bucketID int64) error {
	if h.Informed == nil {
		return nil
	}
	d := informed.ParseDevice(c.Get(fiber.HeaderUserAgent))
	for _, q := range informed.SignInQueries(w.On(), bucketID, d, h.Buckets.Time(), h.Buckets.Zone) {
		if err := w.Add(q); err != nil {
			return err
		}
	}
	return nil
}

// shareID reads a share's id from its audit actor ("share:<id>").
func shareID(e *informed.Entry) int64 {
	if e.ActorID != nil {
		return *e.ActorID
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(e.ActorName, "share:"), 10, 64)
	return id
}

func maskedContact(channel, to string) string {
	if channel == "sms" {
		return letter.MaskPhone(to)
	}
	return letter.MaskEmail(to)
}
