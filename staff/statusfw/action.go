package statusfw

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// bucketAction is one Status Forwarding action: its name in the URL, its
// messages and the domain call. Each action's own file defines it.
type bucketAction struct {
	name     string
	titleKey string // form heading and button
	doneKey  string // message after success ("ID")
	stateKey string // message when the bucket's state does not allow it
	run      func(ctx context.Context, h *Handlers, u *database.User, b *database.Bucket, ip string, in actionInput) (*database.Bucket, error)
}

// bucketActions are the actions in the order rows show them.
var bucketActions = []*bucketAction{&unlockBucket, &extendBucket, &removeStudy, &revokeBucket}

func bucketActionNamed(name string) *bucketAction {
	for _, a := range bucketActions {
		if a.name == name {
			return a
		}
	}
	return nil
}

// actionInput is what an action form sends.
type actionInput struct {
	Reason string
	Until  string // extend: yyyy-mm-dd
	Study  string // remove: study id
}

// actionState is an action form as shown: its input, limits and error.
type actionState struct {
	Action  *bucketAction
	Name    string
	Title   string
	Input   actionInput
	Error   string
	MinDate string // extend: tomorrow
	MaxDate string // extend: the department maximum
	Studies []buckets.Choice
}

// actionPage is the no-JavaScript page of one action form.
type actionPage struct {
	Row rowView
}

// actionTarget loads the bucket of the URL for an action: 404 unless the user's
// department (or the service desk), 403 unless they may manage it, whatever
// the request says.
func (h *Handlers) actionTarget(c fiber.Ctx) (*database.User, *database.Bucket, error) {
	u := web.CurrentUser(c)
	id, err := web.ParamID(c, "id")
	if err != nil {
		return nil, nil, err
	}
	b, err := h.Buckets.ForStaff(c.Context(), u, id)
	if err != nil {
		return nil, nil, err
	}
	if !buckets.CanManage(u, b) {
		return nil, nil, apperr.New(apperr.Forbidden, "statusfw.error.forbidden")
	}
	return u, b, nil
}

// actionForm shows the form of action a: within the row for htmx, as a
// page of its own without JavaScript.
func (h *Handlers) actionForm(c fiber.Ctx, a *bucketAction) error {
	{
		u, b, err := h.actionTarget(c)
		if err != nil {
			return err
		}
		page := web.NewPage(c, a.titleKey, nil)
		st, err := h.newActionState(c, a, b, actionInput{})
		if err != nil {
			return err
		}
		return h.renderActionForm(c, http.StatusOK, page, u, b, st)
	}
}

// actionSubmit runs action a with its reason: one transaction with its
// audit event in the domain. htmx gets the row re-rendered, a plain form a
// redirect back to the list (post-redirect-get); a refusal re-shows the
// form with a translated message (422).
func (h *Handlers) actionSubmit(c fiber.Ctx, a *bucketAction) error {
	{
		u, b, err := h.actionTarget(c)
		if err != nil {
			return err
		}
		in := actionInput{Reason: strings.TrimSpace(c.FormValue("reason")), Until: strings.TrimSpace(c.FormValue("valid_until")),
			Study: strings.TrimSpace(c.FormValue("study"))}
		page := web.NewPage(c, a.titleKey, nil)
		_, err = a.run(c.Context(), h, u, b, c.IP(), in)
		if err != nil {
			key, args, ok := actionErrorKey(a, err)
			if !ok {
				return err
			}
			st, serr := h.newActionState(c, a, b, in)
			if serr != nil {
				return serr
			}
			st.Error = page.T(key, args...)
			return h.renderActionForm(c, http.StatusUnprocessableEntity, page, u, b, st)
		}
		if web.IsHTMX(c) {
			row, err := h.Buckets.Row(c.Context(), u, b.ID)
			if err != nil {
				return err
			}
			v := rowView{P: page, L: newRowLabels(page), R: h.rowOf(page, u, row), ServiceDesk: u.IsServiceDesk(), Done: page.T(a.doneKey, "ID", b.ID)}
			page.Data = v
			return web.RenderPartial(c, http.StatusOK, "partials/statusfw_row", page)
		}
		return web.Redirect(c, "/staff/status?done="+a.name+"&bucket="+strconv.FormatInt(b.ID, 10))
	}
}

// actionErrorKey maps what the domain refuses to a translated message; ok is
// false for errors that are not the user's input (404, 403, internal).
func actionErrorKey(a *bucketAction, err error) (string, []any, bool) {
	var ae *apperr.Error
	switch {
	case errors.Is(err, buckets.ErrState):
		return a.stateKey, nil, true
	case errors.Is(err, buckets.ErrValidity):
		return "statusfw.error.validity", nil, true
	case errors.As(err, &ae) && ae.Code == apperr.Invalid:
		return ae.Key, ae.Args, true
	}
	return "", nil, false
}

// newActionState builds the form of action a for bucket b.
func (h *Handlers) newActionState(c fiber.Ctx, a *bucketAction, b *database.Bucket, in actionInput) (*actionState, error) {
	st := &actionState{Action: a, Name: a.name, Input: in}
	if a.name == extendBucket.name {
		today := h.Buckets.Today()
		st.MinDate = today.AddDate(0, 0, 1).Format(time.DateOnly)
		st.MaxDate = buckets.MaxValidity(today, b.Department).Format(time.DateOnly)
		if st.Input.Until == "" {
			st.Input.Until = b.ValidUntil.Format(time.DateOnly)
		}
	}
	if a.name == removeStudy.name {
		studies, err := h.Buckets.Studies(c.Context(), b.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range studies {
			name := strings.Join(s.Modalities, "/")
			if s.Description != "" {
				name += " · " + s.Description
			}
			if s.StudyDate != nil {
				name = s.StudyDate.Format(time.DateOnly) + " " + name
			}
			st.Studies = append(st.Studies, buckets.Choice{ID: s.ID, Name: name})
		}
	}
	return st, nil
}

// renderActionForm renders the row with the form open (htmx) or the form page.
func (h *Handlers) renderActionForm(c fiber.Ctx, status int, page *web.Page, u *database.User, b *database.Bucket, st *actionState) error {
	row, err := h.Buckets.Row(c.Context(), u, b.ID)
	if err != nil {
		return err
	}
	st.Title = page.T(st.Action.titleKey)
	v := rowView{P: page, L: newRowLabels(page), R: h.rowOf(page, u, row), ServiceDesk: u.IsServiceDesk(), Form: st}
	if web.IsHTMX(c) {
		page.Data = v
		return web.RenderPartial(c, status, "partials/statusfw_row", page)
	}
	page.Data = actionPage{Row: v}
	return web.Render(c, status, "staff/statusfw_action", page)
}
