package print

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/nyaruka/phonenumbers"
	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/informed"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/web"
)

// printView is what STEP 2 shows.
type printView struct {
	Sel       *buckets.Selection
	Form      buckets.PrintForm
	Regions   []regionOption
	Choices   buckets.PrintChoices
	Today     string // first allowed date is the day after
	MinDate   string
	MaxDate   string // "" when the department sets no maximum
	MaxText   string // MaxDate written the reader's way
	AnonNote  bool   // anonymize + images and report: the report will never be accessible
	StudyArgs string // study=1&study=2 for links back to this selection
	Notice    noticeForm
}

// Form is STEP 2: the ten parameters, preset with the department's
// default validity and this user's sticky choices.
func (h *Handlers) Form(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	sel, err := h.requestSelection(c, u)
	if err != nil {
		return err
	}
	f, err := h.defaultPrintForm(c, u, sel)
	if err != nil {
		return err
	}
	ch, err := h.Buckets.PrintChoices(c.Context(), sel.Dept.ID)
	if err != nil {
		return err
	}
	page := h.printPage(c, sel, f, ch)
	if page.Data.(*printView).Notice, err = h.defaultNotice(c.Context(), u, sel.Dept.ID); err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, "staff/print", page)
}

// Submit is PRINT REFERENCE NUMBER: validate everything, then store it all in
// one transaction and go to the confirmation (STEP 3). Errors come back as a
// 422 with the message next to each field: the form alone for htmx, the
// whole page without JavaScript.
func (h *Handlers) Submit(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	sel, err := h.requestSelection(c, u)
	if err != nil {
		return err
	}
	f := parsePrintForm(c)
	ch, err := h.Buckets.PrintChoices(c.Context(), sel.Dept.ID)
	if err != nil {
		return err
	}
	req, errs := f.Check(h.Buckets.Today(), sel.Dept, ch)
	nf := parseNotice(c)
	notice, noticeErr := nf.check(f, sel.Dept)
	if len(errs) > 0 || noticeErr != "" {
		page := h.printPage(c, sel, f, ch)
		page.Data.(*printView).Notice = nf
		if noticeErr != "" {
			page.AddError("notice_contact", noticeErr)
		}
		for _, e := range errs {
			page.AddError(e.Field, e.Key, localArgs(page.Lang, e.Args)...)
		}
		page.AddError("form", "print.error.form")
		if page.HTMX {
			return web.RenderPartial(c, http.StatusUnprocessableEntity, "partials/print_form", page)
		}
		return web.Render(c, http.StatusUnprocessableEntity, "staff/print", page)
	}
	// The letter is rendered inside Create (h.Buckets.Letters); the session
	// is written through the print's own transaction: never a second pool
	// connection while the transaction holds one.
	res, err := h.Buckets.Create(c.Context(), u, c.IP(), sel, req, buckets.Hooks{
		Keep: func(ctx context.Context, tx bun.Tx, b *database.Bucket, n refnum.Number) error {
			if err := keepNotice(ctx, tx, b.ID, notice); err != nil {
				return err
			}
			return h.rememberRef(c, tx, b.ID, n)
		},
	})
	if errors.Is(err, buckets.ErrPrefs) {
		h.Log.WarnContext(c.Context(), "print preferences not saved", "request_id", c.RequestID(), "error", err.Error())
	} else if err != nil {
		return err
	}
	if !res.Duplicate { // sticky, after the commit like the other print preferences
		if err := informed.SavePrefs(c.Context(), h.Buckets.DB, &informed.Prefs{UserID: u.ID, ReadyNotice: nf.ReadyNotice, DeviceAlert: nf.DeviceAlert}); err != nil {
			h.Log.WarnContext(c.Context(), "notice preferences not saved", "request_id", c.RequestID(), "error", err.Error())
		}
	}
	to := "/staff/print/" + strconv.FormatInt(res.Bucket.ID, 10)
	if req.PrintNow && !res.Duplicate {
		to += "?open=1"
	}
	return web.Redirect(c, to)
}

func (h *Handlers) printPage(c fiber.Ctx, sel *buckets.Selection, f buckets.PrintForm, ch buckets.PrintChoices) *web.Page {
	today := h.Buckets.Today()
	v := &printView{
		Sel: sel, Form: f, Regions: regionOptions(sel.Dept), Choices: ch,
		Today:     today.Format("2006-01-02"),
		MinDate:   today.AddDate(0, 0, 1).Format("2006-01-02"),
		AnonNote:  f.Anonymize && f.Scope == database.ScopeImagesReport,
		StudyArgs: studyArgs(sel.IDs),
	}
	max := buckets.MaxValidity(today, sel.Dept)
	v.MaxDate = max.Format("2006-01-02")
	v.MaxText = letter.FormatDate(web.Lang(c), max)
	return web.NewPage(c, "print.title", v)
}

// defaultPrintForm presets the form: sticky verification type, SMS prefix and
// language of this user's last print; the department's default validity.
func (h *Handlers) defaultPrintForm(c fiber.Ctx, u *database.User, sel *buckets.Selection) (buckets.PrintForm, error) {
	f := buckets.PrintForm{
		Verification: database.VerifySMS,
		SMSRegion:    regionOfPhone(sel.Dept.Phone),
		Scope:        database.ScopeImages,
		Language:     web.Lang(c),
		ValidUntil:   buckets.DefaultValidity(h.Buckets.Today(), sel.Dept).Format("2006-01-02"),
		FormToken:    buckets.NewFormToken(),
	}
	prefs, err := h.Buckets.Prefs(c.Context(), u.ID)
	switch {
	case err != nil:
		return f, err
	case prefs != nil:
		f.Verification = prefs.Verification
		if buckets.ValidRegion(prefs.SMSRegion) {
			f.SMSRegion = prefs.SMSRegion
		}
		if i18n.Valid(prefs.Language) {
			f.Language = prefs.Language
		}
	}
	if !sel.Dept.AllowsVerification(f.Verification) && len(sel.Dept.Verifications) > 0 {
		f.Verification = sel.Dept.Verifications[0]
	}
	return f, nil
}

// regionOfPhone guesses the SMS prefix from the department's own phone number.
func regionOfPhone(phone string) string {
	if num, err := phonenumbers.Parse(phone, ""); err == nil {
		if r := phonenumbers.GetRegionCodeForNumber(num); buckets.ValidRegion(r) {
			return r
		}
	}
	return buckets.SMSRegions[0]
}

// localArgs writes dates in message arguments the way the page's language does.
func localArgs(lang string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if d, ok := a.(time.Time); ok {
			a = letter.FormatDate(lang, d)
		}
		out[i] = a
	}
	return out
}

func studyArgs(ids []int64) string {
	q := url.Values{}
	for _, id := range ids {
		q.Add("study", strconv.FormatInt(id, 10))
	}
	return q.Encode()
}
