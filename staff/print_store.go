package staff

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/store"
)

// ActionPrint is the audit action of PRINT REFERENCE NUMBER.
const ActionPrint = audit.BucketPrint

// ActionPrintLetter records a letter (re)printed from the confirmation.
const ActionPrintLetter = audit.BucketLetter

// createBucket stores one print in ONE transaction: the bucket, its studies,
// the label assignment, the sticky preferences and the audit event (with the
// reason, never the number). Any failure leaves nothing behind. keep runs
// last inside the transaction with the new bucket's id and number (the
// confirmation's copy in the session): if it fails, nothing is printed,
// so no active bucket can exist whose number nobody saw.
func (h *Handlers) createBucket(ctx context.Context, u *store.User, ip string, sel *selection, r *printRequest,
	keep func(bucketID int64, n refnum.Number) error) (*store.Bucket, error) {
	n, err := refnum.New()
	if err != nil {
		return nil, err
	}
	b := &store.Bucket{
		RefHash:      refnum.Hash(h.Print.Key, n),
		DepartmentID: sel.Dept.ID,
		PatientID:    sel.Patient.ID,
		Verification: r.Verification,
		Destination:  r.Destination,
		Scope:        r.Scope,
		ValidUntil:   r.ValidUntil,
		Reason:       r.Reason,
		Language:     r.Language,
		Anonymized:   r.Anonymize,
		Message:      r.Message,
		CreatedBy:    u.ID,
		State:        store.BucketActive,
	}
	if r.Anonymize {
		if b.AnonNumber, err = anonNumber(); err != nil {
			return nil, err
		}
	}
	err = store.InTx(ctx, h.DB, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(b).Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("insert bucket: %w", err)
		}
		links := make([]*store.BucketStudy, len(sel.Studies))
		for i, s := range sel.Studies {
			links[i] = &store.BucketStudy{BucketID: b.ID, StudyID: s.ID}
		}
		if _, err := tx.NewInsert().Model(&links).Exec(ctx); err != nil {
			return fmt.Errorf("insert bucket studies: %w", err)
		}
		if r.LabelID != 0 {
			labels := make([]*store.StudyLabel, len(sel.Studies))
			for i, s := range sel.Studies {
				labels[i] = &store.StudyLabel{StudyID: s.ID, LabelID: r.LabelID, UserID: r.LabelUserID, GroupID: r.LabelGroupID, CreatedBy: &u.ID}
			}
			if _, err := tx.NewInsert().Model(&labels).Exec(ctx); err != nil {
				return fmt.Errorf("insert study labels: %w", err)
			}
		}
		prefs := &store.UserPrintPrefs{UserID: u.ID, Verification: r.Verification, SMSRegion: r.SMSRegion, Language: r.Language, UpdatedAt: time.Now()}
		q := tx.NewInsert().Model(prefs).On("CONFLICT (user_id) DO UPDATE").
			Set("verification = EXCLUDED.verification").Set("language = EXCLUDED.language").Set("updated_at = EXCLUDED.updated_at")
		if r.SMSRegion != "" {
			q = q.Set("sms_region = EXCLUDED.sms_region") // a dob/email print keeps the last SMS prefix
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("save print preferences: %w", err)
		}
		details := map[string]any{
			"reason":       r.Reason,
			"studies":      sel.IDs,
			"patient_id":   sel.Patient.ID,
			"verification": r.Verification,
			"scope":        r.Scope,
			"valid_until":  r.ValidUntil.Format("2006-01-02"),
			"language":     r.Language,
			"anonymized":   r.Anonymize,
			"message":      r.Message != "",
		}
		if r.LabelID != 0 {
			details["label_id"] = r.LabelID
		}
		if err := audit.Record(ctx, tx, &audit.Event{
			Action: ActionPrint, ActorKind: "staff", ActorID: &u.ID, ActorName: u.Username,
			DepartmentID: &sel.Dept.ID, BucketID: &b.ID, IP: ip, Details: details,
		}); err != nil {
			return err
		}
		return keep(b.ID, n)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// anonNumber is the 6-digit number that replaces the first name of an anonymized bucket.
func anonNumber() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(900000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", 100000+n.Int64()), nil
}
