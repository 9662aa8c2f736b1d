package testserver

import (
	"context"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
)

// BucketSpec is what MustBucket prints; zero values give a "dob" bucket
// with images only, valid for a month, in English.
type BucketSpec struct {
	Verification string // sms, email, dob
	Destination  string
	Scope        string
	Anonymize    bool
	ValidUntil   time.Time
	Language     string
}

// MustBucket prints a bucket of studies (all of one patient) through the
// real print transaction, as user u, and returns it with its plaintext number.
func (s *Server) MustBucket(tb testing.TB, u *database.User, studies []*database.Study, spec BucketSpec) (*database.Bucket, refnum.Number) {
	tb.Helper()
	ctx := context.Background()
	ids := make([]int64, len(studies))
	for i, st := range studies {
		ids[i] = st.ID
	}
	sel, err := s.App.Buckets.Select(ctx, u, ids)
	if err != nil {
		tb.Fatalf("select studies: %v", err)
	}
	r := &buckets.PrintRequest{Verification: spec.Verification, Destination: spec.Destination, Scope: spec.Scope,
		Reason: "test print", Language: spec.Language, ValidUntil: spec.ValidUntil, Anonymize: spec.Anonymize}
	if r.Verification == "" {
		r.Verification = database.VerifyDOB
	}
	if r.Scope == "" {
		r.Scope = database.ScopeImages
	}
	if r.Language == "" {
		r.Language = "en"
	}
	if r.ValidUntil.IsZero() {
		r.ValidUntil = s.App.Buckets.Today().AddDate(0, 1, 0)
	}
	res, err := s.App.Buckets.Create(ctx, u, "127.0.0.1", sel, r, buckets.Hooks{})
	if err != nil {
		tb.Fatalf("print bucket: %v", err)
	}
	return res.Bucket, res.Number
}
