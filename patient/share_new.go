package patient

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// shareFormView is the "Share with a doctor" form.
type shareFormView struct {
	To, Until, Message string
	Today, Last        string // the date input's bounds
	Studies            []shareStudy
	ReportOffered      bool // the access shows reports: the share may too
	Report             bool
	Anonymized         bool
	Birth              signInForm // day, month, year of the confirmation
	MessageMax         int
}

type shareStudy struct {
	ID      int64
	Label   string
	Checked bool
}

func (h *Handlers) shareForm(c fiber.Ctx, p *web.Page, b *database.Bucket, f *buckets.ShareForm) (*shareFormView, []int64, error) {
	studies, err := h.Buckets.Studies(c.Context(), b.ID)
	if err != nil {
		return nil, nil, err
	}
	today := h.Buckets.Today()
	v := &shareFormView{Today: today.Format("2006-01-02"), Last: b.ValidUntil.Format("2006-01-02"),
		ReportOffered: b.ReportAllowed(), Anonymized: b.Anonymized, Birth: newSignInForm(p, ""), MessageMax: buckets.ShareMessageMax}
	checked := map[string]bool{}
	if f == nil { // a new form: every study, the default length, the report if offered
		v.Until, v.Report = buckets.ShareUntilDefault(today, b).Format("2006-01-02"), v.ReportOffered
	} else {
		v.To, v.Until, v.Message, v.Report = echo(f.To, 300), echo(f.Until, 10), echo(f.Message, 4*buckets.ShareMessageMax), f.Report && v.ReportOffered
		for _, s := range f.Studies {
			checked[s] = true
		}
	}
	var anon []buckets.AnonStudy
	if b.Anonymized {
		if anon, err = h.Buckets.AnonStudies(c.Context(), studies); err != nil {
			return nil, nil, err
		}
	}
	ids := buckets.StudyIDs(studies)
	for i, st := range studies {
		label := strings.Join(st.Modalities, ", ")
		if b.Anonymized {
			label = strings.Join(anon[i].Modalities, ", ") + " · " + strings.Join(anon[i].BodyParts, ", ")
		} else {
			if st.StudyDate != nil {
				label = st.StudyDate.Format("2006-01-02") + " · " + label
			}
			if st.Description != "" {
				label += " · " + st.Description
			}
		}
		v.Studies = append(v.Studies, shareStudy{ID: st.ID, Label: label, Checked: f == nil || checked[itoa(st.ID)]})
	}
	return v, ids, nil
}

// ShareNew shows the "Share with a doctor" form.
func (h *Handlers) ShareNew(c fiber.Ctx) error {
	p := web.NewPage(c, "share.new.title", nil)
	v, _, err := h.shareForm(c, p, bucketOf(c), nil)
	if err != nil {
		return err
	}
	p.Data = v
	return web.Render(c, http.StatusOK, "patient/share_new", p)
}

// ShareCreate checks the form and the patient's birth date, creates the
// share and sends its link to the doctor.
func (h *Handlers) ShareCreate(c fiber.Ctx) error {
	b := bucketOf(c)
	p := web.NewPage(c, "share.new.title", nil)
	f := buckets.ShareForm{To: c.FormValue("to"), Until: c.FormValue("until"), Message: c.FormValue("message"),
		Report: c.FormValue("report") != ""}
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti("studies") {
		f.Studies = append(f.Studies, string(v))
	}
	v, ids, err := h.shareForm(c, p, b, &f)
	if err != nil {
		return err
	}
	p.Data = v
	day, year := strings.TrimSpace(c.FormValue("dob_day")), strings.TrimSpace(c.FormValue("dob_year"))
	v.Birth.Day, v.Birth.Month, v.Birth.Year = echo(day, 8), echo(c.FormValue("dob_month"), 8), echo(year, 8)
	r, errs := f.Check(h.Buckets.Today(), b, ids)
	for _, e := range errs {
		p.AddError(e.Field, e.Key, e.Args...)
	}
	birth, ok := parseDate(day, c.FormValue("dob_month"), year, time.Now())
	if !ok {
		p.AddError("dob", "patient.error.dob")
	}
	if len(p.Errors) > 0 { // nothing counted, nothing stored
		return web.Render(c, http.StatusUnprocessableEntity, "patient/share_new", p)
	}
	ns, err := h.Buckets.CreateShare(c.Context(), b.ID, r, birth, c.IP())
	switch {
	case errors.Is(err, buckets.ErrShareLimit):
		p.AddError("to", "share.error.limit", "Max", buckets.MaxActiveShares)
	case errors.Is(err, buckets.ErrShareSendLimit):
		p.AddError("to", "share.error.daylimit")
	case errors.Is(err, buckets.ErrNotActive), errors.Is(err, buckets.ErrNotFound):
		return h.closedSince(c, b.ID)
	case errors.Is(err, buckets.ErrValidity):
		p.AddError("until", "share.error.until.range", "Last", b.ValidUntil.Format("2006-01-02"))
	case err != nil:
		return err
	case ns.Outcome == buckets.ShareBlocked:
		return h.closedSince(c, b.ID)
	case ns.Outcome == buckets.ShareWrongBirth:
		p.AddError("dob", "share.error.dob", "Left", buckets.MaxFailures-ns.Failures)
	}
	if len(p.Errors) > 0 {
		return web.Render(c, http.StatusUnprocessableEntity, "patient/share_new", p)
	}
	link := strings.TrimSuffix(h.BaseURL, "/") + "/s/" + ns.Token
	if err := h.Buckets.SendShareLink(c.Context(), h.ShareSender, ns, link, c.IP()); err != nil {
		var se *buckets.SendError
		if errors.As(err, &se) && se.Send != nil {
			h.Log.WarnContext(c.Context(), "share link not sent", "request_id", c.RequestID(), "share_id", ns.Share.ID, "channel", se.Channel, "error", se.Send.Error())
			return web.Redirect(c, "/p/shares?notice=notsent")
		}
		h.Log.ErrorContext(c.Context(), "record share link failed", "request_id", c.RequestID(), "share_id", ns.Share.ID, "error", err.Error())
	}
	return web.Redirect(c, "/p/shares?notice=sent")
}
