package patient

import (
	"errors"

	"github.com/gofiber/fiber/v3"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/web"
)

// A doctor's session is a patient-kind session bound to one share (and its
// bucket): StageShareCode once the link was opened and a code is due,
// StageShare once the right code was typed.
const (
	sessShare      = "share"
	StageShareCode = "sharecode"
	StageShare     = "share"
)

// localShare holds the doctor's *buckets.ShareScope (set by RequireViewer).
const localShare = "radpass.share"

// shareScopeOf is the request's share scope, nil for the patient.
func shareScopeOf(c fiber.Ctx) *buckets.ShareScope {
	s, _ := c.Locals(localShare).(*buckets.ShareScope)
	return s
}

// actorOf is who reads bucket b's data in this request: the patient, or
// the doctor through their share.
func actorOf(c fiber.Ctx, b *database.Bucket) audit.Actor {
	if sc := shareScopeOf(c); sc != nil {
		return audit.Share(b.ID, sc.ID, c.IP())
	}
	return audit.Patient(&b.ID, c.IP())
}

// RequireViewer lets through the patient (StageIn) and a doctor signed in
// through a share (StageShare), for the pages both see: the doctor's
// viewer is narrowed to the share (viewerOf). The share and its bucket are
// re-checked at every request, so a revoked, blocked or expired share, or
// an access that ended, ends the doctor's session at its next request.
func (h *Handlers) RequireViewer() fiber.Handler {
	patientIn := h.RequireStage(StageIn)
	return func(c fiber.Ctx) error {
		web.NoStore(c)
		s, err := h.Sessions.Get(c)
		if err != nil {
			return err
		}
		if s.Values[sessStage] != StageShare {
			return patientIn(c)
		}
		return h.requireShare(c, StageShare, true)
	}
}

// RequireShareCode is the doctor's code pages' guard.
func (h *Handlers) RequireShareCode() fiber.Handler {
	return func(c fiber.Ctx) error {
		web.NoStore(c)
		return h.requireShare(c, StageShareCode, false)
	}
}

func (h *Handlers) requireShare(c fiber.Ctx, stage string, scope bool) error {
	s, err := h.Sessions.Get(c)
	if err != nil {
		return err
	}
	id, _ := s.Values[sessShare].(int64)
	if id == 0 || s.Values[sessStage] != stage {
		return h.signedOut(c)
	}
	sh, b, err := h.Buckets.ShareOpen(c.Context(), id)
	if errors.Is(err, buckets.ErrNotFound) {
		if err := h.Sessions.Destroy(c); err != nil {
			return err
		}
		return h.signedOut(c)
	}
	if err != nil {
		return err
	}
	c.Locals(localShareRow, sh)
	if scope {
		sc, err := h.Buckets.ShareScopeOf(c.Context(), sh)
		if err != nil {
			return err
		}
		c.Locals(localShare, sc)
		c.Locals(web.LocalBucket, b)
	} else {
		c.Locals(localShareBucket, b) // not signed in yet: no patient page data
	}
	return c.Next()
}

const (
	localShareRow    = "radpass.share.row"
	localShareBucket = "radpass.share.bucket"
)

// isDoctor reports a doctor's session (the patient's own links are hidden).
func isDoctor(c fiber.Ctx) bool { return shareScopeOf(c) != nil }
