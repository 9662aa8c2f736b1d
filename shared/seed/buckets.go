package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/notify"
)

// DemoBucket is one demo print: what a new user types on the patient side
// and what it shows. Number is the plaintext reference number, which the
// database never holds: Demo returns it for dev mode to print.
type DemoBucket struct {
	Number       string // grouped, as printed on the letter
	BirthDate    string // YYYY-MM-DD
	Verification string // sms, email, dob
	State        string // active, blocked, expired, revoked (as Status Forwarding shows it)
	Department   string
	Try          string // what a new user can try with it
}

// demoReason is the Reason for printing of every demo print.
const demoReason = "Demo data (radpass seed)"

// demoBuckets prints one bucket of each verification kind and state
// through the bucket domain, as north.staff (south.staff for the south
// department's): a dob, an sms and an e-mail bucket that open, one whose
// report is still under embargo, an anonymized one, and a blocked (five
// wrong birth dates), an expired (printed 40 days ago for a month) and a
// revoked one, for Status Forwarding. The numbers also go to the dev outbox.
func demoBuckets(ctx context.Context, db *bun.DB, key []byte, users []*database.User, plans []*studyPlan) ([]DemoBucket, error) {
	if err := loadStudyIDs(ctx, db, plans); err != nil {
		return nil, err
	}
	user := map[string]*database.User{}
	for _, u := range users {
		user[u.Username] = u
	}
	// The candidates: patients with a birth date, in plan order (the first
	// patient of each department has the newest study).
	used := map[int64]bool{}
	find := func(dept string, embargo bool) []*studyPlan {
		for i, p := range plans {
			if p.dept.Code != dept || p.patient.BirthDate == nil || used[p.patient.ID] {
				continue
			}
			if embargo != p.embargoed(i) {
				continue
			}
			used[p.patient.ID] = true
			var all []*studyPlan
			for _, q := range plans {
				if q.patient.ID == p.patient.ID {
					all = append(all, q)
				}
			}
			return all
		}
		return nil
	}
	specs := []struct {
		dept, verification, dest, scope, state, try string
		embargo, anonymize                          bool
	}{
		{"RAD-NORTH", database.VerifyDOB, "", database.ScopeImagesReport, database.BucketActive,
			"opens at once: the newest study in the list (CT thorax: series, slices) with its final report, and the patient's other study", false, false},
		{"RAD-NORTH", database.VerifySMS, "+32470000101", database.ScopeImagesReport, database.BucketActive,
			"asks for a one-time code: the SMS lands in the dev outbox at /dev/outbox", false, false},
		{"RAD-NORTH", database.VerifyEmail, "demo.patient@example.org", database.ScopeImagesReport, database.BucketActive,
			"asks for a one-time code: the e-mail lands in the dev outbox at /dev/outbox", false, false},
		{"RAD-NORTH", database.VerifyDOB, "", database.ScopeImagesReport, database.BucketActive,
			"images at once; the report is under embargo: \"not available yet\"", true, false},
		{"RAD-NORTH", database.VerifyDOB, "", database.ScopeImagesReport, database.BucketActive,
			"anonymized: \"Anonymous\" with a 6-digit number, images only, never the report", false, true},
		{"RAD-NORTH", database.VerifyDOB, "", database.ScopeImages, database.BucketBlocked,
			"blocked after 5 wrong birth dates: north.admin or servicedesk unlocks it in Status Forwarding, then it opens", false, false},
		{"RAD-NORTH", database.VerifyDOB, "", database.ScopeImages, database.BucketExpired,
			"expired 10 days ago: the patient is told whom to contact; Status Forwarding can extend it", false, false},
		{"RAD-NORTH", database.VerifyDOB, "", database.ScopeImages, database.BucketRevoked,
			"revoked by north.admin: refused, shown as revoked in Status Forwarding", false, false},
		{"RAD-SOUTH", database.VerifyDOB, "", database.ScopeImagesReport, database.BucketActive,
			"opens at once: the newest study of Radiologie Süd, seen by south.staff", false, false},
	}
	var out []DemoBucket
	now := time.Now()
	for _, sp := range specs {
		studies := find(sp.dept, sp.embargo)
		if studies == nil {
			continue // a small demo (tests) runs out of patients
		}
		staff, admin := user["north.staff"], user["north.admin"]
		if sp.dept == "RAD-SOUTH" {
			staff, admin = user["south.staff"], user["south.admin"]
		}
		svc := &buckets.Service{DB: db, Key: key}
		if sp.state == database.BucketExpired {
			printed := now.AddDate(0, 0, -40)
			svc.Now = func() time.Time { return printed }
		}
		ids := make([]int64, len(studies))
		for i, p := range studies {
			ids[i] = p.studyID
		}
		sel, err := svc.Select(ctx, staff, ids)
		if err != nil {
			return nil, fmt.Errorf("seed: select %v: %w", ids, err)
		}
		req := &buckets.PrintRequest{Verification: sp.verification, Destination: sp.dest, Scope: sp.scope,
			Reason: demoReason, Language: "en", ValidUntil: buckets.DefaultValidity(svc.Today(), sel.Dept), Anonymize: sp.anonymize}
		if sp.verification == database.VerifySMS {
			req.SMSRegion = "BE"
		}
		if sp.state == database.BucketExpired {
			req.ValidUntil = svc.Today().AddDate(0, 0, 30)
		}
		c, err := svc.Create(ctx, staff, "127.0.0.1", sel, req, buckets.Hooks{})
		if err != nil {
			return nil, fmt.Errorf("seed: print a %s bucket: %w", sp.state, err)
		}
		live := &buckets.Service{DB: db, Key: key}
		switch sp.state {
		case database.BucketBlocked:
			wrong := sel.Patient.BirthDate.AddDate(0, 0, 1)
			for k := 0; k < buckets.MaxFailures; k++ {
				if _, err := live.SignIn(ctx, c.Number, wrong, "127.0.0.1"); err != nil {
					return nil, err
				}
			}
		case database.BucketRevoked:
			if _, err := live.Revoke(ctx, admin, c.Bucket.ID, "127.0.0.1", "Demo: printed for the wrong visit"); err != nil {
				return nil, err
			}
		}
		var b database.Bucket
		if err := db.NewSelect().Model(&b).Where("id = ?", c.Bucket.ID).Scan(ctx); err != nil {
			return nil, err
		}
		if got := b.EffectiveState(live.Today()); got != sp.state {
			return nil, fmt.Errorf("seed: demo bucket %d is %s, want %s", b.ID, got, sp.state)
		}
		out = append(out, DemoBucket{Number: c.Number.Grouped(), BirthDate: sel.Patient.BirthDate.Format(time.DateOnly),
			Verification: sp.verification, State: sp.state, Department: sp.dept, Try: sp.try})
	}
	if err := outboxNote(ctx, db, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadStudyIDs reads back the study rows the importer made.
func loadStudyIDs(ctx context.Context, db *bun.DB, plans []*studyPlan) error {
	var rows []struct {
		ID   int64  `bun:"id"`
		Dept int64  `bun:"department_id"`
		UID  string `bun:"study_uid"`
	}
	if err := db.NewSelect().Table("studies").Column("id", "department_id", "study_uid").Scan(ctx, &rows); err != nil {
		return err
	}
	ids := map[string]int64{}
	for _, r := range rows {
		ids[fmt.Sprint(r.Dept, "/", r.UID)] = r.ID
	}
	for _, p := range plans {
		p.studyID = ids[fmt.Sprint(p.dept.ID, "/", p.uid)]
		if p.studyID == 0 {
			return fmt.Errorf("seed: study %s was not stored", p.accession)
		}
	}
	return nil
}

// outboxNote leaves the demo numbers in the dev outbox (dev mode only seeds),
// so they are at /dev/outbox after the start-up lines have scrolled away.
func outboxNote(ctx context.Context, db *bun.DB, bs []DemoBucket) error {
	text := "RadPass demo reference numbers (dev mode only; sign in at /p/signin):\n\n"
	for _, b := range bs {
		text += fmt.Sprintf("%s  born %s  %-5s %-7s %s: %s\n", b.Number, b.BirthDate, b.Verification, b.State, b.Department, b.Try)
	}
	return (&notify.Outbox{DB: db}).SendEmail(ctx, notify.EmailMessage{To: "demo@radpass.invalid", Subject: "Demo reference numbers", Text: text})
}
