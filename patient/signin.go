package patient

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/web"
)

// signInForm is the form as typed, shown back on errors (never the date of
// birth of an attempt that failed: the same body for every refusal).
type signInForm struct {
	Ref              string
	Day, Month, Year string
	Months           []month // the months, named in the page's language
	MaxYear          int
	Lang             string // the letter's language from the QR code, kept at sign-in
}

// month is one entry of the month menu: a number sent, a name shown.
type month struct{ Value, Name string }

func newSignInForm(p *web.Page, ref string) signInForm {
	f := signInForm{Ref: ref, MaxYear: time.Now().Year()}
	for m := 1; m <= 12; m++ {
		f.Months = append(f.Months, month{Value: strconv.Itoa(m), Name: p.T("patient.month." + strconv.Itoa(m))})
	}
	return f
}

// Home is the start page: "I am a patient". The letter's QR code opens it
// with ?ref= (the number, never the birth date) and ?lang= (the letter's language).
func (h *Handlers) Home(c fiber.Ctx) error {
	// The page speaks the letter's language; a GET changes nothing, so the
	// choice is kept (in the language cookie) only when the form is sent.
	lang := c.Query("lang")
	if i18n.Valid(lang) {
		c.Locals(web.LocalLang, lang)
	} else {
		lang = ""
	}
	p := web.NewPage(c, "patient.signin.title", nil)
	ref := c.Query("ref")
	if len(ref) > 40 {
		ref = ""
	}
	f := newSignInForm(p, strings.ToValidUTF8(ref, ""))
	f.Lang = lang
	p.Data = f
	return web.Render(c, http.StatusOK, "patient/signin", p)
}

// SignIn checks reference number and date of birth. A typo the check
// character catches, or an impossible date, is answered at once and counts
// no attempt; everything else goes to the bucket's atomic counter.
func (h *Handlers) SignIn(c fiber.Ctx) error {
	if l := c.FormValue("lang"); i18n.Valid(l) {
		c.Locals(web.LocalLang, l)
		c.Cookie(&fiber.Cookie{Name: web.LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HTTPOnly: true, SameSite: "Lax", Secure: h.Sessions.Store.Secure})
	}
	p := web.NewPage(c, "patient.signin.title", nil)
	ref := strings.TrimSpace(c.FormValue("ref"))
	if len(ref) > 64 {
		ref = ref[:64]
	}
	f := newSignInForm(p, strings.ToValidUTF8(ref, ""))
	// Only the parsed values are checked; what is shown back in the inputs
	// is clipped to their size, so a 60 MB field is not sent back whole.
	day, year := strings.TrimSpace(c.FormValue("dob_day")), strings.TrimSpace(c.FormValue("dob_year"))
	f.Day, f.Month, f.Year = echo(day, 8), echo(c.FormValue("dob_month"), 8), echo(year, 8)
	p.Data = f
	n, err := refnum.Parse(ref)
	switch {
	case ref == "":
		p.AddError("ref", "patient.error.ref.required")
	case errors.Is(err, refnum.ErrCheck):
		p.AddError("ref", "patient.error.ref.check")
	case err != nil:
		p.AddError("ref", "patient.error.ref.format")
	}
	birth, ok := parseDate(day, c.FormValue("dob_month"), year, time.Now())
	if !ok {
		p.AddError("dob", "patient.error.dob")
	}
	if len(p.Errors) > 0 {
		return h.renderSignIn(c, http.StatusUnprocessableEntity, p)
	}
	// Past its free tries an address is slowed down, never closed: the
	// reservation and the count are one statement, and a right number and
	// birth date go through at the next slot like any try (security
	// requirement 16). The answer says how long to wait, the same for every
	// number (nothing is checked).
	ip := c.IP()
	if h.IPThrottle != nil {
		adm, err := h.IPThrottle.Reserve(c.Context(), ip)
		if err != nil {
			return err
		}
		if !adm.Admitted {
			return h.renderWait(c, p, f, adm.Wait)
		}
		if adm.Delay > 0 {
			// The server-wide ceiling of refused tries is passed: everyone waits.
			t := time.NewTimer(adm.Delay)
			select {
			case <-t.C:
			case <-c.Context().Done():
				t.Stop()
				return c.Context().Err()
			}
		}
	}
	// The audit row, the session row and the address's counter commit
	// together: an answered sign-in has its "signin ok" row, a failed one
	// none. The old session (if any) is read first; the sign-in's writes go
	// to PostgreSQL in one message (buckets.SignInThen).
	sess, err := h.Sessions.Get(c)
	if err != nil {
		h.refundTry(c, ip)
		return err
	}
	oldID := sess.ID
	answer := func() {}
	a, err := h.Buckets.SignInThen(c.Context(), n, birth, ip, func(ctx context.Context, a *buckets.Attempt, w *buckets.Batch) error {
		// A second call (the bucket changed; the first writes were not
		// stored) starts again from the browser's session, so its row is
		// still the one deleted.
		sess.ID = oldID
		if h.IPThrottle != nil {
			if a.Outcome == buckets.Refused {
				if q := h.IPThrottle.RefusedQuery(w.On()); q != nil {
					if err := w.Add(q); err != nil {
						return err
					}
				}
			} else if err := w.Add(h.IPThrottle.RefundQuery(w.On(), ip)); err != nil {
				return err
			}
		}
		var err error
		switch a.Outcome {
		case buckets.Open:
			if answer, err = h.startSession(c, w, a.Bucket, StageIn); err == nil {
				err = h.queueSignInDevice(c, w, a.Bucket.ID)
			}
		case buckets.NeedOTP:
			answer, err = h.startSession(c, w, a.Bucket, StageCode)
		}
		return err
	})
	if err != nil {
		h.refundTry(c, ip)
		return err
	}
	answer() // committed: the browser gets the new session's cookie
	switch a.Outcome {
	case buckets.Open:
		return h.toInside(c, a.Bucket, studyTarget(a.OnlyStudy))
	case buckets.NeedOTP:
		// Say why no code came: a sign-in within a minute of the last one
		// (a double tap on a slow phone) meets the cooldown, and "could not
		// be sent" would be wrong: the code sent a moment ago still works.
		q := ""
		notice := h.send(c, a.Bucket)
		if notice == noticeClosed {
			return h.closedSince(c, a.Bucket.ID)
		}
		if notice != "" {
			q = "?notice=" + strings.TrimPrefix(notice, "patient.code.")
		}
		return web.Redirect(c, "/p/code"+q)
	case buckets.Blocked, buckets.Expired, buckets.Revoked:
		return h.renderClosed(c, a.Outcome, a.Bucket)
	}
	// Unknown number, wrong birth date, blocked with a wrong birth date: one answer.
	f.Day, f.Month, f.Year = "", "", ""
	p.Data = f
	p.AddError("form", "patient.error.refused")
	return h.renderSignIn(c, http.StatusUnprocessableEntity, p)
}

func (h *Handlers) renderSignIn(c fiber.Ctx, status int, p *web.Page) error {
	if p.HTMX {
		return web.RenderPartial(c, status, "partials/patient_signin", p)
	}
	return web.Render(c, status, "patient/signin", p)
}

// closedView explains, once number and birth date matched, why the access
// does not open and whom to call.
type closedView struct {
	Reason     string // blocked, expired, revoked
	ValidUntil string
	Dept       *database.Department
}

func (h *Handlers) renderClosed(c fiber.Ctx, o buckets.Outcome, b *database.Bucket) error {
	_ = h.Sessions.Destroy(c)
	p := web.NewPage(c, "patient.closed.title", nil)
	p.Data = closedView{Reason: o.String(), ValidUntil: letter.FormatDate(p.Lang, b.ValidUntil), Dept: b.Department}
	return web.Render(c, http.StatusForbidden, "patient/closed", p)
}

// parseDate reads a date of birth typed as day, month and year; it must be a
// real date, not in the future, and not before 1900.
func parseDate(day, month, year string, now time.Time) (time.Time, bool) {
	d, err1 := strconv.Atoi(day)
	m, err2 := strconv.Atoi(month)
	y, err3 := strconv.Atoi(year)
	if err1 != nil || err2 != nil || err3 != nil || y < 1900 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || t.After(now) {
		return time.Time{}, false
	}
	return t, true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// echo is s as shown back in a form field: at most n bytes, valid UTF-8.
func echo(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// insideTarget is where a signed-in patient goes: straight to the viewer
// when the bucket holds one study (the first image sooner on a slow phone),
// else to the list of studies.
func (h *Handlers) insideTarget(ctx context.Context, db bun.IDB, b *database.Bucket) (string, error) {
	id, err := h.Buckets.OnlyStudy(ctx, db, b.ID)
	return studyTarget(id), err
}

// studyTarget is the page of study id (0: the list of studies).
func studyTarget(id int64) string {
	if id == 0 {
		return "/p/"
	}
	return "/p/studies/" + itoa(id)
}

// toInside sends a signed-in patient to the page to (insideTarget).
func (h *Handlers) toInside(c fiber.Ctx, b *database.Bucket, to string) error {
	id, ok := strings.CutPrefix(to, "/p/studies/")
	if !ok || !web.IsHTMX(c) {
		return web.Redirect(c, to)
	}
	// htmx: answer with the viewer itself and push its URL, one round trip
	// less than a redirect (on a slow mobile line that is half a second).
	// The sign-in is committed by now: if the viewer cannot be built, the
	// redirect still answers it.
	studyID, _ := strconv.ParseInt(id, 10, 64)
	p, err := h.studyPage(c, b, studyID)
	if err != nil {
		h.Log.WarnContext(c.Context(), "viewer after sign-in failed", "error", err.Error())
		return web.Redirect(c, to)
	}
	c.Set("HX-Push-Url", to)
	c.Set("HX-Retarget", "#main")
	c.Set("HX-Reswap", "innerHTML show:window:top")
	return web.RenderPartial(c, http.StatusOK, "patient/study", p)
}

// refundTry gives back the address's count of a try that failed on our side
// (it was no refusal). The answer is already an error: a failed refund is
// only logged.
func (h *Handlers) refundTry(c fiber.Ctx, ip string) {
	if h.IPThrottle == nil {
		return
	}
	ctx := context.WithoutCancel(c.Context())
	if err := h.IPThrottle.Refund(ctx, ip); err != nil {
		h.Log.WarnContext(ctx, "sign-in refund failed", "error", err.Error())
	}
}

// renderWait answers a try the address's slow-down holds back: 429 with
// Retry-After and the sign-in form saying how long to wait. Nothing was
// checked, so the answer is the same for every number.
func (h *Handlers) renderWait(c fiber.Ctx, p *web.Page, f signInForm, wait time.Duration) error {
	secs := int(wait / time.Second)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	f.Day, f.Month, f.Year = "", "", ""
	p.Data = f
	p.AddError("form", "patient.error.wait", "Seconds", secs)
	return h.renderSignIn(c, http.StatusTooManyRequests, p)
}
