package patient

import (
	"net/http"
	"time"

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
	Doctor   bool       // a doctor's session through a share: no sharing, no shares list
	Links    *linksView // viewer links (links.go); nil: off
	Until    time.Time  // the last day this page opens: the access's, or the doctor's share's
}

// Studies lists the bucket's studies (never the name of an anonymized bucket).
func (h *Handlers) Studies(c fiber.Ctx) error {
	return h.studiesPage(c, bucketOf(c), "")
}

// studiesPage renders the studies page of b; created is the DICOMweb base
// of a viewer link just made (shown once), or "".
func (h *Handlers) studiesPage(c fiber.Ctx, b *database.Bucket, created string) error {
	all, err := h.Buckets.Studies(c.Context(), b.ID)
	if err != nil {
		return err
	}
	vw := viewerOf(c)
	studies := all[:0:0]
	for _, s := range all {
		if vw.Sees(s.ID) {
			studies = append(studies, s)
		}
	}
	p := web.NewPage(c, "patient.studies.title", nil)
	v := studiesView{Bucket: b, Studies: studies, Name: displayName(p, b), Doctor: isDoctor(c), Until: b.ValidUntil}
	if sc := shareScopeOf(c); sc != nil {
		v.Until = sc.Until
	}
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
	if !v.Doctor { // viewer links are the patient's own, like shares
		if v.Links, err = h.linkList(c, b); err != nil {
			return err
		}
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

// viewerOf is the signed-in patient as a viewer of patient data, or the
// doctor's view of it, narrowed to their share.
func viewerOf(c fiber.Ctx) buckets.Viewer {
	if sc := shareScopeOf(c); sc != nil {
		return buckets.Shared(bucketOf(c), sc)
	}
	return buckets.Patient(bucketOf(c))
}
