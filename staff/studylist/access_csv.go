package studylist

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/web"
)

// accessExportTimeout bounds one CSV export.
const accessExportTimeout = 5 * time.Minute

// studyBucketRow is a bucket that includes the study, for the study page.
type studyBucketRow struct {
	*buckets.StudyBucket
	Ref        string
	Printed    string
	ValidUntil string
	LastAccess string
}

// accessRow is one access to the study, for the study page.
type accessRow struct {
	At   string
	Who  string // translated: "patient of bucket #12" or "staff user ann"
	What string // translated: images, series, report, download
}

// StudyAccess is the study page's "who saw this study" section.
type StudyAccess struct {
	Buckets []studyBucketRow
	Access  []accessRow
	More    bool // more accesses than shown: the CSV has them all
	CSVURL  string
}

// accessWhatKey names what an access showed.
func accessWhatKey(action string) string {
	switch action {
	case audit.StudyView:
		return "statusfw.access.what.study"
	case audit.SeriesView:
		return "statusfw.access.what.series"
	case audit.ReportView:
		return "statusfw.access.what.report"
	case audit.StudyDownload, audit.InstanceDownload:
		return "statusfw.access.what.download"
	}
	return "statusfw.access.what.other"
}

// accessWho says who accessed, in words of page language tr.
func accessWho(t func(string, ...any) string, a *audit.Access) string {
	if a.BucketID != nil {
		switch a.ActorKind {
		case audit.KindPatient:
			return t("statusfw.access.who.patient", "ID", *a.BucketID)
		case audit.KindShare: // actor_name "share:<id>"
			return t("statusfw.access.who.share", "ID", *a.BucketID, "Share", strings.TrimPrefix(a.ActorName, "share:"))
		case audit.KindLink: // actor_name "link:<id>"
			return t("statusfw.access.who.link", "ID", *a.BucketID, "Link", strings.TrimPrefix(a.ActorName, "link:"))
		}
	}
	return t("statusfw.access.who.staff", "Name", a.ActorName)
}

// studyAccess builds the study page's access section for study id (the
// caller has checked that the user may see the study).
func (h *Handlers) studyAccess(ctx context.Context, p *web.Page, id int64) (*StudyAccess, error) {
	bs, err := h.Buckets.ForStudy(ctx, id)
	if err != nil {
		return nil, err
	}
	acc, err := h.Audit.StudyAccess(ctx, id, audit.AccessPageLimit+1)
	if err != nil {
		return nil, err
	}
	out := &StudyAccess{CSVURL: "/staff/studies/" + strconv.FormatInt(id, 10) + "/access.csv"}
	for _, b := range bs {
		r := studyBucketRow{StudyBucket: b, Ref: "#" + strconv.FormatInt(b.ID, 10), Printed: b.CreatedAt.UTC().Format("2006-01-02 15:04"),
			ValidUntil: b.ValidUntil.Format(time.DateOnly)}
		if b.LastAccessAt != nil {
			r.LastAccess = b.LastAccessAt.UTC().Format("2006-01-02 15:04")
		}
		out.Buckets = append(out.Buckets, r)
	}
	if len(acc) > audit.AccessPageLimit {
		acc, out.More = acc[:audit.AccessPageLimit], true
	}
	for _, a := range acc {
		out.Access = append(out.Access, accessRow{At: a.At.UTC().Format("2006-01-02 15:04:05"), Who: accessWho(p.T, a), What: p.T(accessWhatKey(a.Action))})
	}
	return out, nil
}

// AccessCSV streams every access to a study as CSV, for a patient's
// access request (GDPR art. 15): staff who may see the study's department
// only. Rows are written as the database returns them, never collected.
func (h *Handlers) AccessCSV(c fiber.Ctx) error {
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	u := web.CurrentUser(c)
	study, err := h.Buckets.Study(c.Context(), buckets.Staff(u), id)
	if err != nil {
		return err
	}
	if err := h.Audit.Record(c.Context(), audit.Staff(u, c.IP()).Event(audit.StudyAccessExport, &study.DepartmentID,
		map[string]any{"study_id": study.ID})); err != nil {
		return err
	}
	page := web.NewPage(c, "statusfw.title", nil)
	t := page.T
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="study-`+strconv.FormatInt(study.ID, 10)+`-access.csv"`)
	trail, log, reqID := h.Audit, h.Log, c.RequestID()
	// Written after the handler returns, at the client's pace (a stalled
	// client is cut off after the server's write timeout).
	return web.SendStreamWriter(c, accessExportTimeout, func(ctx context.Context, w io.Writer) error {
		cw := csv.NewWriter(w)
		_ = cw.Write(csvSafe([]string{t("statusfw.csv.time"), t("statusfw.csv.who"), t("statusfw.csv.kind"), t("statusfw.csv.bucket"),
			t("statusfw.csv.user"), t("statusfw.csv.what"), t("statusfw.csv.action"), t("statusfw.csv.series"), t("statusfw.csv.study")}))
		err := trail.EachStudyAccess(ctx, study.ID, func(a *audit.Access) error {
			bucket := ""
			if a.BucketID != nil {
				bucket = strconv.FormatInt(*a.BucketID, 10)
			}
			user := ""
			if a.ActorKind != "patient" {
				user = a.ActorName
			}
			return cw.Write(csvSafe([]string{a.At.UTC().Format(time.RFC3339), accessWho(t, a), a.ActorKind, bucket, user,
				t(accessWhatKey(a.Action)), a.Action, a.SeriesID, study.StudyUID}))
		})
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
		if err != nil && log != nil {
			// Headers are gone: the client sees a broken download; the log says why.
			log.ErrorContext(ctx, "access export failed", "request_id", reqID, "study_id", study.ID, "error", err.Error())
		}
		return err
	})
}

// csvSafe guards against formula injection: a cell a spreadsheet would
// read as a formula (starting with = + - @, or a tab or carriage return)
// gets a leading apostrophe.
func csvSafe(cells []string) []string {
	for i, s := range cells {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			cells[i] = "'" + s
		}
	}
	return cells
}
