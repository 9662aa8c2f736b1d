package machineapi

import (
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
)

// Access is the answer about one access (POST, GET, revoke, extend).
// ReferenceNumber is set only in the answer that created it; every other
// answer, a replay of the same Idempotency-Key included, has null there.
type Access struct {
	ID              int64              `json:"id"`
	ReferenceNumber *string            `json:"reference_number"`
	State           string             `json:"state"` // active, expired, blocked, revoked
	ValidUntil      string             `json:"valid_until"`
	Verification    string             `json:"verification"`
	Scope           string             `json:"scope"`
	Language        string             `json:"language"`
	Anonymized      bool               `json:"anonymized"`
	CreatedAt       string             `json:"created_at"`
	Studies         []buckets.StudyRef `json:"studies"`
	// Letters are the letter PDF's address per language while the letter
	// may be downloaded (until LetterUntil), else empty.
	Letters     map[string]string `json:"letters"`
	LetterUntil *string           `json:"letter_available_until"`
}

// accessOf is the answer about bucket b with its studies and API record.
func (h *Handler) accessOf(b *database.Bucket, studies []*database.Study, r *record, now time.Time) *Access {
	a := &Access{
		ID: b.ID, State: b.EffectiveState(h.Buckets.Today()), ValidUntil: b.ValidUntil.Format(time.DateOnly),
		Verification: b.Verification, Scope: b.Scope, Language: b.Language, Anonymized: b.Anonymized,
		CreatedAt: b.CreatedAt.UTC().Format(time.RFC3339),
		Studies:   make([]buckets.StudyRef, len(studies)), Letters: map[string]string{},
	}
	for i, st := range studies {
		a.Studies[i] = buckets.StudyRef{StudyUID: st.StudyUID, Accession: st.Accession}
	}
	if r != nil && r.letterOpen(now) && b.State != database.BucketRevoked {
		for _, l := range i18n.Languages {
			a.Letters[l] = h.letterURL(b.ID, l)
		}
		u := r.LetterUntil.UTC().Format(time.RFC3339)
		a.LetterUntil = &u
	}
	return a
}
