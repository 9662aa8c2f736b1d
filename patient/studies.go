package patient

import (
	"net/http"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// studiesView is the bucket's start page.
type studiesView struct {
	Bucket  *database.Bucket
	Name    string // the patient's name, or "Anonymous 123456"
	Studies []*database.Study
	// Anon replaces Studies for an anonymized bucket: only what the
	// de-identified files keep.
	Anon     []buckets.AnonStudy
	Ready    bool // at least one image has arrived
	Download bool
	Links    *linksView // viewer links (links.go); nil: off
}

// Studies lists the bucket's studies (never the name of an anonymized bucket).
func (h *Handlers) Studies(c fiber.Ctx) error {
	return h.studiesPage(c, bucketOf(c), "")
}

// studiesPage renders the studies page of b; created is the DICOMweb base
// of a viewer link just made (shown once), or "".
func (h *Handlers) studiesPage(c fiber.Ctx, b *database.Bucket, created string) error {
	studies, err := h.Buckets.Studies(c.Context(), b.ID)
	if err != nil {
		return err
	}
	p := web.NewPage(c, "patient.studies.title", nil)
	v := studiesView{Bucket: b, Studies: studies, Name: displayName(p, b)}
	for _, s := range studies {
		if s.NumInstances > 0 {
			v.Ready, v.Download = true, true
		}
	}
	if b.Anonymized {
		if v.Anon, err = h.Buckets.AnonStudies(c.Context(), studies); err != nil {
			return err
		}
		v.Studies = nil
	}
	if v.Links, err = h.linkList(c, b); err != nil {
		return err
	}
	if v.Links != nil {
		v.Links.Created = created
	}
	p.Data = v
	return web.Render(c, http.StatusOK, "patient/studies", p)
}

// displayName is what the patient pages call the patient.
func displayName(p *web.Page, b *database.Bucket) string {
	if b.Anonymized {
		return p.T("patient.anonymous", "Number", b.AnonNumber)
	}
	return b.Patient.DisplayName()
}

// viewerOf is the signed-in patient as a viewer of patient data.
func viewerOf(c fiber.Ctx) buckets.Viewer { return buckets.Patient(bucketOf(c)) }
