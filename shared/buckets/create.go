package buckets

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/keys"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/refnum"
)

// Selection is the studies one print covers: all of one patient.
type Selection struct {
	IDs     []int64
	Studies []*database.Study
	Patient *database.Patient
	Dept    *database.Department
}

// PrintRequest is a validated print form, ready to store.
type PrintRequest struct {
	Verification string
	Destination  string
	SMSRegion    string
	Scope        string
	Reason       string
	Language     string
	ValidUntil   time.Time
	LabelID      int64
	LabelUserID  *int64
	LabelGroupID *int64
	Anonymize    bool
	Message      string
	PrintNow     bool
	// FormToken is the one-time token of the form that was submitted: a
	// second submit of the same form shows the first print, creating nothing.
	FormToken string
}

// Created is the outcome of Create. Duplicate means the form had been
// submitted before: Bucket is that print's, and Number is zero (the first
// request kept it in the session).
type Created struct {
	Bucket    *database.Bucket
	Number    refnum.Number
	Duplicate bool
}

// Hooks let the caller take part in a print without a second connection:
// Keep runs last inside the transaction with it (e.g. keep the sealed number
// in the session); if it fails, nothing is stored.
type Hooks struct {
	Keep func(ctx context.Context, tx bun.Tx, b *database.Bucket, n refnum.Number) error
}

// Create stores one print in ONE transaction: the bucket, its studies, the
// label assignment and the audit event (with the reason, never the number).
// Before the transaction, and never for a form token printed before, the
// letter is rendered (s.Letters): no bucket whose letter cannot be printed;
// after the commit it is kept for the print's "Print immediately". The
// sticky print preferences are written after the commit, outside the
// transaction, so parallel prints by one user never queue on that row.
func (s *Service) Create(ctx context.Context, u *database.User, ip string, sel *Selection, r *PrintRequest, h Hooks) (*Created, error) {
	return s.create(ctx, creator{user: u}, ip, sel, r, h)
}

// CreateByMachine is Create for an API token of the selection's department
// (the RIS API): the same transaction, the same rules; the audit event names
// the token, the form token is the request's idempotency key, and no print
// preferences are kept.
func (s *Service) CreateByMachine(ctx context.Context, m Machine, ip string, sel *Selection, r *PrintRequest, h Hooks) (*Created, error) {
	if sel.Dept == nil || sel.Dept.ID != m.DepartmentID {
		return nil, ErrNotFound
	}
	return s.create(ctx, creator{machine: &m}, ip, sel, r, h)
}

func (s *Service) create(ctx context.Context, who creator, ip string, sel *Selection, r *PrintRequest, h Hooks) (*Created, error) {
	n, err := refnum.New()
	if err != nil {
		return nil, err
	}
	b := &database.Bucket{
		RefHash:      refnum.Hash(s.Key, n),
		DepartmentID: sel.Dept.ID,
		Department:   sel.Dept,
		PatientID:    sel.Patient.ID,
		Patient:      sel.Patient,
		Verification: r.Verification,
		Destination:  r.Destination,
		Scope:        r.Scope,
		ValidUntil:   r.ValidUntil,
		Reason:       r.Reason,
		Language:     r.Language,
		Anonymized:   r.Anonymize,
		Message:      r.Message,
		State:        database.BucketActive,
		CreatedAt:    s.now(),
	}
	who.stamp(b)
	if r.FormToken != "" {
		b.FormTokenHash = keys.Sum(s.Key, keys.PrintFormToken, []byte(r.FormToken))
		// A repeated form token is answered before anything is rendered:
		// one submit of it at a time, in this process and across instances
		// (formLock, held until the bucket is committed), and a later one
		// finds the first's print.
		leave, err := s.forms.enter(ctx, who.formKey(b.FormTokenHash))
		if err != nil {
			return nil, err
		}
		defer leave()
		release, err := formLock(ctx, s.DB, who.formKey(b.FormTokenHash))
		if err != nil {
			return nil, err
		}
		defer release()
		dup, err := s.printOfForm(ctx, who, b.FormTokenHash)
		if err != nil {
			return nil, err
		}
		if dup != nil {
			return &Created{Bucket: dup, Duplicate: true}, nil
		}
	}
	if r.Anonymize {
		if b.AnonNumber, err = AnonNumber(); err != nil {
			return nil, err
		}
	}
	var pdf []byte
	if s.Letters != nil {
		if pdf, err = s.Letters.Render(ctx, b, sel.Studies, b.Language, n); err != nil {
			return nil, err
		}
	}
	var dup *database.Bucket
	err = database.InTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		// A repeated form token waits here for the first submit's transaction
		// (the unique index), then finds its bucket.
		res, err := tx.NewInsert().Model(b).ExcludeColumn("id", "created_at").
			On(who.conflict()).Returning("id, created_at").Exec(ctx)
		if err != nil {
			return fmt.Errorf("insert bucket: %w", err)
		}
		if rows, _ := res.RowsAffected(); rows == 0 {
			dup = new(database.Bucket)
			return who.where(tx.NewSelect().Model(dup), b.FormTokenHash).Scan(ctx)
		}
		links := make([]*database.BucketStudy, len(sel.Studies))
		for i, st := range sel.Studies {
			links[i] = &database.BucketStudy{BucketID: b.ID, StudyID: st.ID}
		}
		if _, err := tx.NewInsert().Model(&links).Exec(ctx); err != nil {
			return fmt.Errorf("insert bucket studies: %w", err)
		}
		if r.LabelID != 0 {
			if err := addLabels(ctx, tx, who.labeller(), sel, r); err != nil {
				return err
			}
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
		ev := who.actor(ip).Event(audit.BucketPrint, &sel.Dept.ID, details)
		ev.BucketID = &b.ID
		if err := audit.Record(ctx, tx, ev); err != nil {
			return err
		}
		if h.Keep != nil {
			return h.Keep(ctx, tx, b, n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dup != nil {
		return &Created{Bucket: dup, Duplicate: true}, nil
	}
	s.Metrics.Print()
	if r.PrintNow && pdf != nil {
		s.Letters.Keep(b.ID, b.Language, pdf)
	}
	if who.user == nil {
		return &Created{Bucket: b, Number: n}, nil
	}
	if err := s.savePrefs(ctx, who.user, r); err != nil {
		// The print is stored and its number kept; losing a preselection is not worth failing it.
		return &Created{Bucket: b, Number: n}, fmt.Errorf("%w: %v", ErrPrefs, err)
	}
	return &Created{Bucket: b, Number: n}, nil
}

// addLabels puts the print's label on its studies for the chosen user or
// group, by staff user by (0: a machine token) (labels.Attach: one row per study and target, the same locks as a
// click in the study list). A label or group deleted since the form was
// checked is the form's label error, not a foreign key violation.
func addLabels(ctx context.Context, tx bun.Tx, by int64, sel *Selection, r *PrintRequest) error {
	_, err := labels.Attach(ctx, tx, r.LabelID, labels.Target{UserID: r.LabelUserID, GroupID: r.LabelGroupID}, by, StudyIDs(sel.Studies))
	if errors.Is(err, labels.ErrLabelGone) || errors.Is(err, labels.ErrTargetGone) {
		return apperr.Field("label", "labels.error.label")
	}
	return err
}

// ErrPrefs wraps a failure to save the sticky preferences after a print that
// was stored: callers log it and carry on.
var ErrPrefs = errors.New("buckets: print stored, preferences not saved")

// savePrefs keeps verification type, SMS prefix and language for the user's next print.
func (s *Service) savePrefs(ctx context.Context, u *database.User, r *PrintRequest) error {
	prefs := &database.UserPrintPrefs{UserID: u.ID, Verification: r.Verification, SMSRegion: r.SMSRegion, Language: r.Language, UpdatedAt: s.now()}
	q := s.DB.NewInsert().Model(prefs).On("CONFLICT (user_id) DO UPDATE").
		Set("verification = EXCLUDED.verification").Set("language = EXCLUDED.language").Set("updated_at = EXCLUDED.updated_at")
	if r.SMSRegion != "" {
		q = q.Set("sms_region = EXCLUDED.sms_region") // a dob/email print keeps the last SMS prefix
	}
	_, err := q.Exec(ctx)
	return err
}

// Prefs returns the user's sticky print preferences (nil when none yet).
func (s *Service) Prefs(ctx context.Context, userID int64) (*database.UserPrintPrefs, error) {
	p := new(database.UserPrintPrefs)
	err := s.DB.NewSelect().Model(p).Where("user_id = ?", userID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return p, err
}

// AnonNumber is the 6-digit number that stands for the patient of an
// anonymized bucket: its pages say "Anonymous 123456", its files
// Anonymous^123456.
func AnonNumber() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(900000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", 100000+n.Int64()), nil
}

// LetterPrinted records that user u had the letter of bucket b served in lang.
func (s *Service) LetterPrinted(ctx context.Context, u *database.User, ip string, b *database.Bucket, lang string) error {
	ev := audit.Staff(u, ip).Event(audit.BucketLetter, &b.DepartmentID, map[string]any{"language": lang})
	ev.BucketID = &b.ID
	return audit.Record(ctx, s.DB, ev)
}
