package patient

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicomweb"
	"github.com/radpass/radpass/shared/web"
)

// linksView is the viewer-links section of the studies page.
type linksView struct {
	Links []dicomweb.Link
	// Created is the DICOMweb base of the link just made: shown once, its
	// token is never stored.
	Created string
	OHIF    bool
	// Until is each link's last day (by link id): a link expires at the
	// start of the day after its access's last day, so that day is shown.
	Until map[int64]string
}

// linkList is the live links of b for the studies page (nil when links are off).
func (h *Handlers) linkList(c fiber.Ctx, b *database.Bucket) (*linksView, error) {
	if h.Links == nil {
		return nil, nil
	}
	ls, err := h.Links.List(c.Context(), b)
	if err != nil {
		return nil, err
	}
	v := &linksView{Links: ls, OHIF: h.OHIFURL != "", Until: make(map[int64]string, len(ls))}
	zone := h.Buckets.Zone
	if zone == nil {
		zone = time.Local
	}
	for _, l := range ls {
		v.Until[l.ID] = l.ExpiresAt.In(zone).Add(-time.Nanosecond).Format("2006-01-02")
	}
	return v, nil
}

// linkBase is the DICOMweb base URL of token.
func (h *Handlers) linkBase(token string) string { return h.DICOMwebBase + "/" + token }

// LinkCreate makes a viewer link for the patient's access and shows its
// DICOMweb base once, on the studies page.
func (h *Handlers) LinkCreate(c fiber.Ctx) error {
	if h.Links == nil {
		return fiber.ErrNotFound
	}
	b := bucketOf(c)
	token, _, err := h.Links.Create(c.Context(), b, c.IP())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return h.studiesPage(c, b, h.linkBase(token))
}

// LinkRevoke ends one of the access's viewer links at once.
func (h *Handlers) LinkRevoke(c fiber.Ctx) error {
	if h.Links == nil {
		return fiber.ErrNotFound
	}
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Links.Revoke(c.Context(), bucketOf(c), id, c.IP()); err != nil {
		return err
	}
	return web.Redirect(c, "/p/#viewer-links")
}

// OpenOHIF makes a fresh viewer link and offers the OHIF viewer
// (RADPASS_OHIF_URL) with that link's DICOMweb data source and the study
// opened: a link, since the pages' form-action policy keeps a form's
// redirect on this site.
func (h *Handlers) OpenOHIF(c fiber.Ctx) error {
	if h.Links == nil || h.OHIFURL == "" {
		return fiber.ErrNotFound
	}
	id, err := web.ParamID(c, "id")
	if err != nil {
		return err
	}
	b := bucketOf(c)
	study, err := h.Buckets.Study(c.Context(), buckets.Patient(b), id)
	if err != nil {
		return err
	}
	token, _, err := h.Links.Create(c.Context(), b, c.IP())
	if err != nil {
		return err
	}
	uid := study.StudyUID
	if b.Anonymized {
		uid = h.Links.ServedUID(b, uid)
	}
	p := web.NewPage(c, "dicomweb.ohif.heading", nil)
	p.Data = struct {
		URL     string
		StudyID int64
	}{OHIFLink(h.OHIFURL, h.linkBase(token), uid), study.ID}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, http.StatusOK, "patient/ohif", p)
}

// OHIFLink is the OHIF viewer address that opens study uid from the
// DICOMweb base: OHIF's dicomwebproxy data source reads the data source
// from base+"/ohif.json" (the deployment enables it, docs/dicomweb.md).
func OHIFLink(ohif, base, uid string) string {
	q := url.Values{"url": {base + "/ohif.json"}, "studyInstanceUIDs": {uid}}
	return strings.TrimSuffix(ohif, "/") + "/viewer/dicomwebproxy?" + q.Encode()
}
