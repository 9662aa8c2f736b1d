// Package seed writes the demo data of dev mode: two departments with their
// users, groups and labels, and ~200 fictitious patients with studies.
package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/store"
)

// DemoPassword is the documented password of every demo account.
const DemoPassword = "radpass-demo-2026"

// DemoUser is one demo sign-in, printed by `make run`.
type DemoUser struct{ Username, Role, Department string }

// DemoUsers lists the demo sign-ins (all with DemoPassword).
var DemoUsers = []DemoUser{
	{"north.staff", store.RoleStaff, "RAD-NORTH"},
	{"north.admin", store.RoleAdmin, "RAD-NORTH"},
	{"south.staff", store.RoleStaff, "RAD-SOUTH"},
	{"south.admin", store.RoleAdmin, "RAD-SOUTH"},
	{"servicedesk", store.RoleServiceDesk, ""},
}

// HasData reports whether any department exists (seeding runs once).
func HasData(ctx context.Context, db bun.IDB) (bool, error) {
	return db.NewSelect().Model((*store.Department)(nil)).Exists(ctx)
}

// Demo writes the demo data in one transaction. studies is the number of
// patients/studies (about 200 for `make run`).
func Demo(ctx context.Context, db *bun.DB, studies int) error {
	hash, err := auth.HashPassword(DemoPassword)
	if err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		depts := []*store.Department{
			{Code: "RAD-NORTH", Name: "Radiology North (demo)", Address: "1 Harbour Road, 9000 Northtown", Phone: "+32 9 000 00 01", Email: "radiology.north@example.org", Contact: "the radiology reception, Monday to Friday 8:00–17:00", DefaultValidityN: 1, DefaultValidityUnit: "month"},
			{Code: "RAD-SOUTH", Name: "Radiologie Süd (demo)", Address: "Hauptstraße 12, 8000 Südstadt", Phone: "+49 89 0000 0002", Email: "radiologie.sued@example.org", Contact: "das Radiologie-Sekretariat", DefaultValidityN: 2, DefaultValidityUnit: "week", MaxValidityN: ptr(6), MaxValidityUnit: ptr("month")},
		}
		if _, err := tx.NewInsert().Model(&depts).Exec(ctx); err != nil {
			return err
		}
		byCode := map[string]*store.Department{}
		for _, d := range depts {
			byCode[d.Code] = d
		}
		users := make([]*store.User, 0, len(DemoUsers))
		for _, du := range DemoUsers {
			u := &store.User{Username: du.Username, Role: du.Role, PasswordHash: hash, DisplayName: displayName(du.Username)}
			if d := byCode[du.Department]; d != nil {
				u.DepartmentID = &d.ID
			}
			users = append(users, u)
		}
		if _, err := tx.NewInsert().Model(&users).Exec(ctx); err != nil {
			return err
		}
		for _, d := range depts {
			groups := []*store.Group{{DepartmentID: d.ID, Name: "Front desk"}, {DepartmentID: d.ID, Name: "Radiologists"}}
			if _, err := tx.NewInsert().Model(&groups).Exec(ctx); err != nil {
				return err
			}
			for _, u := range users {
				if u.DepartmentID != nil && *u.DepartmentID == d.ID {
					if _, err := tx.NewInsert().Model(&store.GroupMember{GroupID: groups[0].ID, UserID: u.ID}).Exec(ctx); err != nil {
						return err
					}
				}
			}
			labels := []*store.Label{{DepartmentID: d.ID, Name: "Follow-up", Color: "#c0392b"}, {DepartmentID: d.ID, Name: "Second opinion", Color: "#2e86c1"}, {DepartmentID: d.ID, Name: "Teaching", Color: "#27ae60"}}
			if _, err := tx.NewInsert().Model(&labels).Exec(ctx); err != nil {
				return err
			}
		}
		return insertStudies(ctx, tx, depts, studies)
	})
}

var (
	familyNames = []string{"Janssens", "Peeters", "Maes", "Müller", "Schäfer", "Dubois", "Lefèvre", "Nowak", "Wójcik", "Van den Berg", "De Smet", "García", "Øster", "Brontë", "O'Neill", "Łukasik", "Fabre", "Vermeulen", "Groß", "Nguyen"}
	givenNames  = []string{"Anna", "Zoë", "Lukas", "Élodie", "Jan", "Marie", "Łucja", "Noah", "Chloé", "Jürgen", "Sofia", "Mats", "Inès", "Pieter", "Hélène", "Ömer", "Lotte", "François", "Greta", "Amélie"}
	exams       = []struct{ desc, mod string }{
		{"CT thorax with contrast", "CT"}, {"MRI knee left", "MR"}, {"X-ray chest PA/LAT", "CR"}, {"Mammography bilateral", "MG"},
		{"Ultrasound abdomen", "US"}, {"CT brain without contrast", "CT"}, {"MRI lumbar spine", "MR"}, {"PET-CT whole body", "PT"},
		{"X-ray hand right", "DX"}, {"CT abdomen/pelvis", "CT"},
	}
	reportLines = []string{
		"No acute abnormality. Normal study for age.",
		"Small non-specific finding; follow-up in 6 months is suggested.",
		"Findings discussed with the referring physician. See conclusion.",
	}
)

func insertStudies(ctx context.Context, tx bun.Tx, depts []*store.Department, n int) error {
	rng := rand.New(rand.NewPCG(2026, 11))
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for i := 0; i < n; i++ {
		d := depts[i%len(depts)]
		bd := time.Date(1935+rng.IntN(80), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		p := &store.Patient{
			DepartmentID: d.ID, PatientID: fmt.Sprintf("DEMO%06d", i+1),
			FamilyName: familyNames[rng.IntN(len(familyNames))], GivenName: givenNames[rng.IntN(len(givenNames))],
			BirthDate: &bd, Sex: []string{"F", "M", "O"}[rng.IntN(3)],
		}
		if i%37 == 5 {
			p.BirthDate = nil // a few patients lack a birth date, as real data does
		}
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			return err
		}
		visits := 1 + rng.IntN(2)
		for v := 0; v < visits; v++ {
			e := exams[rng.IntN(len(exams))]
			sd := today.AddDate(0, 0, -rng.IntN(720))
			s := &store.Study{
				DepartmentID: d.ID, PatientID: p.ID,
				StudyUID:  fmt.Sprintf("2.25.%d%06d%d", 1000+d.ID, i, v),
				StudyDate: &sd, StudyTime: fmt.Sprintf("%02d%02d00", 7+rng.IntN(11), rng.IntN(60)),
				Accession: fmt.Sprintf("ACC%s%06d%d", d.Code[4:5], i, v), Description: e.desc, Modalities: []string{e.mod},
				ReferringPhysician: "Dr. " + familyNames[rng.IntN(len(familyNames))],
				NumSeries:          1 + rng.IntN(4), ReportStatus: "none",
			}
			s.NumInstances = s.NumSeries * (1 + rng.IntN(120))
			switch rng.IntN(3) {
			case 0:
				s.ReportStatus, s.ReportText = "final", reportLines[rng.IntN(len(reportLines))]
			case 1:
				s.ReportStatus, s.ReportText = "preliminary", reportLines[rng.IntN(len(reportLines))]
			}
			if _, err := tx.NewInsert().Model(s).Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
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
