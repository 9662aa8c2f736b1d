// Package seed writes the demo data of dev mode: two departments with their
// users, groups and labels, ~200 fictitious patients whose studies have
// the images and reports their rows promise, and demo buckets in every
// verification kind and state.
package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/storage"
)

// DemoPassword is the documented password of every demo account.
const DemoPassword = "radpass-demo-2026"

// DemoUser is one demo sign-in, printed by `make run`.
type DemoUser struct{ Username, Role, Department string }

// DemoUsers lists the demo sign-ins (all with DemoPassword).
var DemoUsers = []DemoUser{
	{"north.staff", database.RoleStaff, "RAD-NORTH"},
	{"north.admin", database.RoleAdmin, "RAD-NORTH"},
	{"south.staff", database.RoleStaff, "RAD-SOUTH"},
	{"south.admin", database.RoleAdmin, "RAD-SOUTH"},
	{"servicedesk", database.RoleServiceDesk, ""},
}

// HasData reports whether any department exists (seeding runs once).
func HasData(ctx context.Context, db bun.IDB) (bool, error) {
	return db.NewSelect().Model((*database.Department)(nil)).Exists(ctx)
}

// Options of a demo seed.
type Options struct {
	Patients    int    // demo patients (200 for `make run`), each with one or two studies
	StorageRoot string // where the DICOM files and report PDFs go
	// Store, when set, is used instead of StorageRoot (an S3 bucket).
	Store storage.Store
	// Key is the server's secret: the demo buckets' reference numbers are
	// hashed with it, as every print's are.
	Key     []byte
	Workers int // studies generated and imported in parallel (4 when 0)
}

// Result says what Demo wrote.
type Result struct {
	Patients, Studies, Instances, Reports int
	Bytes                                 int64 // stored bytes of the DICOM files
	Buckets                               []DemoBucket
	Warnings                              []string // what was left out (the real samples when the module cache lacks them)
	Took                                  time.Duration
}

// Demo writes the demo data: departments, users, groups and labels and the
// patients in one transaction; then every study's images, generated and
// imported through the importer (content-addressed files, instance rows,
// the counts the study list shows), its report through the report upload
// path, and one bucket of each verification kind and state through the
// bucket domain.
func Demo(ctx context.Context, db *bun.DB, o Options) (*Result, error) {
	start := time.Now()
	if o.Workers <= 0 {
		o.Workers = 4
	}
	hash, err := auth.HashPassword(DemoPassword)
	if err != nil {
		return nil, err
	}
	var plans []*studyPlan
	var users []*database.User
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		depts := []*database.Department{
			{Code: "RAD-NORTH", Name: "Radiology North (demo)", Address: "1 Harbour Road, 9000 Northtown", Phone: "+32 9 000 00 01", Email: "radiology.north@example.org", Contact: "the radiology reception, Monday to Friday 8:00–17:00", DefaultValidityN: 1, DefaultValidityUnit: "month"},
			{Code: "RAD-SOUTH", Name: "Radiologie Süd (demo)", Address: "Hauptstraße 12, 8000 Südstadt", Phone: "+49 89 0000 0002", Email: "radiologie.sued@example.org", Contact: "das Radiologie-Sekretariat", DefaultValidityN: 2, DefaultValidityUnit: "week", MaxValidityN: ptr(6), MaxValidityUnit: ptr("month")},
		}
		if _, err := tx.NewInsert().Model(&depts).Exec(ctx); err != nil {
			return err
		}
		// Read back the column defaults (verification kinds, SMS prefixes).
		if err := tx.NewSelect().Model(&depts).Order("id").Scan(ctx); err != nil {
			return err
		}
		byCode := map[string]*database.Department{}
		for _, d := range depts {
			byCode[d.Code] = d
		}
		users = make([]*database.User, 0, len(DemoUsers))
		for _, du := range DemoUsers {
			u := &database.User{Username: du.Username, Role: du.Role, PasswordHash: hash, DisplayName: displayName(du.Username)}
			if d := byCode[du.Department]; d != nil {
				u.DepartmentID = &d.ID
			}
			users = append(users, u)
		}
		if _, err := tx.NewInsert().Model(&users).Exec(ctx); err != nil {
			return err
		}
		for _, d := range depts {
			groups := []*database.Group{{DepartmentID: d.ID, Name: "Front desk"}, {DepartmentID: d.ID, Name: "Radiologists"}}
			if _, err := tx.NewInsert().Model(&groups).Exec(ctx); err != nil {
				return err
			}
			for _, u := range users {
				if u.DepartmentID != nil && *u.DepartmentID == d.ID {
					if _, err := tx.NewInsert().Model(&database.GroupMember{GroupID: groups[0].ID, UserID: u.ID}).Exec(ctx); err != nil {
						return err
					}
				}
			}
			labels := []*database.Label{{DepartmentID: d.ID, Name: "Follow-up", Color: "#c0392b"}, {DepartmentID: d.ID, Name: "Second opinion", Color: "#2e86c1"}, {DepartmentID: d.ID, Name: "Teaching", Color: "#27ae60"}}
			if _, err := tx.NewInsert().Model(&labels).Exec(ctx); err != nil {
				return err
			}
		}
		plans, err = insertPatients(ctx, tx, depts, o.Patients)
		return err
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Patients: o.Patients, Studies: len(plans)}
	if _, err := dicom.SampleDir(); err != nil {
		res.Warnings = append(res.Warnings, "the six real sample files are left out: "+err.Error())
	} else {
		placeSamples(plans)
	}
	st := o.Store
	if st == nil {
		fs, err := storage.NewFS(o.StorageRoot)
		if err != nil {
			return nil, err
		}
		st = fs
	}
	if err := importStudies(ctx, db, st, plans, o.Workers, res); err != nil {
		return nil, err
	}
	if err := attachReports(ctx, db, st, plans, res); err != nil {
		return nil, err
	}
	if res.Buckets, err = demoBuckets(ctx, db, o.Key, users, plans); err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
	return res, nil
}

var (
	familyNames = []string{"Janssens", "Peeters", "Maes", "Müller", "Schäfer", "Dubois", "Lefèvre", "Nowak", "Wójcik", "Van den Berg", "De Smet", "García", "Øster", "Brontë", "O'Neill", "Łukasik", "Fabre", "Vermeulen", "Groß", "Nguyen"}
	givenNames  = []string{"Anna", "Zoë", "Lukas", "Élodie", "Jan", "Marie", "Łucja", "Noah", "Chloé", "Jürgen", "Sofia", "Mats", "Inès", "Pieter", "Hélène", "Ömer", "Lotte", "François", "Greta", "Amélie"}
	exams       = []struct{ desc, mod string }{
		{"CT thorax with contrast", "CT"}, {"MRI knee left", "MR"}, {"X-ray chest PA/LAT", "CR"}, {"Mammography bilateral", "MG"},
		{"Ultrasound abdomen", "US"}, {"CT brain without contrast", "CT"}, {"MRI lumbar spine", "MR"}, {"PET-CT whole body", "PT"},
		{"X-ray hand right", "DX"}, {"CT abdomen/pelvis", "CT"}, {"MRI prostate", "MR"},
	}
	reportLines = []string{
		"No acute abnormality. Normal study for age.",
		"Small non-specific finding; follow-up in 6 months is suggested.",
		"Findings discussed with the referring physician. See conclusion.",
	}
)

// insertPatients writes the demo patients and plans their studies (one or
// two each). The first patient of each department has a study of today, so
// the study list opens on a study with images and a final report.
func insertPatients(ctx context.Context, tx bun.Tx, depts []*database.Department, n int) ([]*studyPlan, error) {
	rng := rand.New(rand.NewPCG(2026, 11))
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var plans []*studyPlan
	for i := 0; i < n; i++ {
		d := depts[i%len(depts)]
		bd := time.Date(1935+rng.IntN(80), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		p := &database.Patient{
			DepartmentID: d.ID, PatientID: fmt.Sprintf("DEMO%06d", i+1),
			FamilyName: familyNames[rng.IntN(len(familyNames))], GivenName: givenNames[rng.IntN(len(givenNames))],
			BirthDate: &bd, Sex: []string{"F", "M", "O"}[rng.IntN(3)],
		}
		if i%37 == 5 {
			p.BirthDate = nil // a few patients lack a birth date, as real data does
		}
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			return nil, err
		}
		visits := 1 + rng.IntN(2)
		for v := 0; v < visits; v++ {
			e := exams[rng.IntN(len(exams))]
			sd := today.AddDate(0, 0, -1-rng.IntN(720)) // today is the first patients' only
			sp := &studyPlan{
				dept: d, patient: p, date: sd,
				uid:       dicom.DerivedUID(demoSalt, fmt.Sprintf("study/%s/%d", p.PatientID, v)),
				studyTime: fmt.Sprintf("%02d%02d00", 7+rng.IntN(11), rng.IntN(60)),
				accession: fmt.Sprintf("ACC%s%06d%d", d.Code[4:5], i, v), desc: e.desc,
				referring: "Dr. " + familyNames[rng.IntN(len(familyNames))], report: "none",
			}
			switch rng.IntN(3) {
			case 0:
				sp.report = "final"
			case 1:
				sp.report = "preliminary"
			}
			if i < len(depts) && v == 0 {
				sp.date, sp.desc, sp.report = today, "CT thorax with contrast", "final"
			}
			sp.series = seriesFor(sp.desc, rng)
			plans = append(plans, sp)
		}
	}
	return plans, nil
}

func displayName(username string) string {
	switch username {
	case "north.staff":
		return "Nora Staff"
	case "north.admin":
		return "Nils Admin"
	case "south.staff":
		return "Sören Staff"
	case "south.admin":
		return "Sabine Admin"
	}
	return "Service Desk"
}

func ptr[T any](v T) *T { return &v }
