package studylist

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/web"
	"github.com/radpass/radpass/staff/staffweb"
)

// labelCell is the labels cell of one study-list row: its chips (each with a
// remove button) and, when the department has labels, the add button.
type labelCell struct {
	Page     *web.Page
	StudyID  int64
	Labels   []studies.Label
	CanLabel bool
}

// LabelAdd puts the label chosen in the study list's label tools on a
// study, for the user or a group, and answers the refreshed labels cell.
func (h *Handlers) LabelAdd(c fiber.Ctx) error {
	u := web.CurrentUser(c)
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	labelID, perr := strconv.ParseInt(c.FormValue("add_label"), 10, 64)
	if perr != nil || labelID <= 0 {
		return apperr.New(apperr.Invalid, "labels.error.label")
	}
	target, ok := labels.ParseTarget(u, c.FormValue("add_label_for"))
	if !ok {
		return apperr.New(apperr.Invalid, "labels.error.target")
	}
	if err := h.Labels.AddToStudy(c.Context(), staffweb.Actor(c), id, labelID, target); err != nil {
		return err
	}
	return h.renderLabelCell(c, id)
}

// LabelRemove takes a label (one that concerns the user) off a study.
func (h *Handlers) LabelRemove(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	sl, err := web.ParamID(c, "sl")
	if err != nil {
		return err
	}
	if err := h.Labels.RemoveFromStudy(c.Context(), staffweb.Actor(c), id, sl); err != nil {
		return err
	}
	return h.renderLabelCell(c, id)
}

func (h *Handlers) renderLabelCell(c fiber.Ctx, id int64) error {
	u := web.CurrentUser(c)
	ls, err := h.Studies.LabelsOf(c.Context(), u, id)
	if err != nil {
		return err
	}
	page := web.NewPage(c, "studylist.title", nil)
	page.Data = labelCell{Page: page, StudyID: id, Labels: ls, CanLabel: true}
	if !web.IsHTMX(c) {
		return web.Redirect(c, "/staff/")
	}
	return web.RenderPartial(c, http.StatusOK, "staff/study_labels_cell", page)
}
