package database

import (
	"time"

	"github.com/uptrace/bun"
)

// Verification types of a bucket.
const (
	VerifySMS   = "sms"
	VerifyEmail = "email"
	VerifyDOB   = "dob"
)

// Scopes of a bucket.
const (
	ScopeImages       = "images"
	ScopeImagesReport = "images_report"
)

// Bucket states.
const (
	BucketActive  = "active"
	BucketBlocked = "blocked"
	BucketRevoked = "revoked"
	BucketExpired = "expired"
)

// Bucket is what one printed reference number opens. RefHash is the HMAC of
// the number (refnum.Hash); the plaintext is never stored.
type Bucket struct {
	bun.BaseModel `bun:"table:buckets"`

	ID           int64       `bun:"id,pk,autoincrement"`
	RefHash      []byte      `bun:"ref_hash"`
	DepartmentID int64       `bun:"department_id"`
	PatientID    int64       `bun:"patient_id"`
	Patient      *Patient    `bun:"rel:belongs-to,join:patient_id=id"`
	Verification string      `bun:"verification"`
	Destination  string      `bun:"destination"`
	Scope        string      `bun:"scope"`
	ValidUntil   time.Time   `bun:"valid_until,type:date"`
	Reason       string      `bun:"reason"`
	Language     string      `bun:"language"`
	Anonymized   bool        `bun:"anonymized"`
	AnonNumber   string      `bun:"anon_number"`
	Message      string      `bun:"message"`
	CreatedBy    int64       `bun:"created_by,nullzero"` // the staff user who printed (0: an API token)
	State        string      `bun:"state"`
	Failures     int         `bun:"failures"`
	CreatedAt    time.Time   `bun:"created_at,nullzero,default:now()"`
	Department   *Department `bun:"rel:belongs-to,join:department_id=id"`

	OTPHash       []byte     `bun:"otp_hash"`
	OTPExpiresAt  *time.Time `bun:"otp_expires_at"`
	BlockedAt     *time.Time `bun:"blocked_at"`
	BlockedProbes int        `bun:"blocked_probes"`
	LastAccessAt  *time.Time `bun:"last_access_at"`
	FormTokenHash []byte     `bun:"form_token_hash"`

	// CreatedByToken is the API token that created the access (the RIS API), or nil.
	CreatedByToken *int64 `bun:"created_by_token"`
}

// Expired reports a bucket whose validity date has passed on the given day
// (the bucket is valid through its valid_until date).
func (b *Bucket) Expired(today time.Time) bool {
	y, m, d := today.Date()
	return b.ValidUntil.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// EffectiveState is the state a person should read: an active bucket past
// its validity date is expired (the row keeps "active": expiry needs no job).
func (b *Bucket) EffectiveState(today time.Time) string {
	if b.State == BucketActive && b.Expired(today) {
		return BucketExpired
	}
	return b.State
}

// ReportAllowed is the one rule for report access: the scope includes it and
// the bucket is not anonymized (an anonymized bucket never shows a report).
func (b *Bucket) ReportAllowed() bool {
	return b.Scope == ScopeImagesReport && !b.Anonymized
}

// BucketStudy links a bucket to one of its studies.
type BucketStudy struct {
	bun.BaseModel `bun:"table:bucket_studies"`

	BucketID int64   `bun:"bucket_id,pk"`
	Bucket   *Bucket `bun:"rel:belongs-to,join:bucket_id=id"`
	StudyID  int64   `bun:"study_id,pk"`
	Study    *Study  `bun:"rel:belongs-to,join:study_id=id"`
}

// UserPrintPrefs are the sticky print-form values of one user.
type UserPrintPrefs struct {
	bun.BaseModel `bun:"table:user_print_prefs"`

	UserID       int64     `bun:"user_id,pk"`
	Verification string    `bun:"verification"`
	SMSRegion    string    `bun:"sms_region"`
	Language     string    `bun:"language"`
	UpdatedAt    time.Time `bun:"updated_at,nullzero,default:now()"`
}
