package seed_test

import (
	"context"
	"testing"

	"github.com/radpass/radpass/shared/seed"
	"github.com/radpass/radpass/shared/testdb"
)

func TestDICOMSamplesAttachToDemoPatients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.New(t)
	if err := seed.Demo(ctx, db, 10); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	n, err := seed.DICOM(ctx, db, root)
	if err != nil || n != 6 {
		t.Fatalf("DICOM seed: %d %v", n, err)
	}
	// Every study with images belongs to a demo patient of its own department.
	var bad int
	if err := db.NewRaw(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE s.num_instances > 0 AND EXISTS (SELECT 1 FROM series se WHERE se.study_id = s.id)
		AND (p.patient_id NOT LIKE 'DEMO%' OR p.department_id <> s.department_id)`).Scan(ctx, &bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Fatalf("%d imported studies not attached to a demo patient", bad)
	}
	// No demo patient is born on or after the date of their sample study
	// (the samples go back to 1960, the demo patients to 1935–2014).
	var unborn int
	if err := db.NewRaw(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE EXISTS (SELECT 1 FROM series se WHERE se.study_id = s.id) AND p.birth_date >= s.study_date`).Scan(ctx, &unborn); err != nil {
		t.Fatal(err)
	}
	if unborn != 0 {
		t.Fatalf("%d sample studies dated before their patient's birth", unborn)
	}
	var dated int
	if err := db.NewRaw(`SELECT count(*) FROM studies s JOIN patients p ON p.id = s.patient_id
		WHERE EXISTS (SELECT 1 FROM series se WHERE se.study_id = s.id) AND p.birth_date IS NOT NULL AND s.study_date IS NOT NULL`).Scan(ctx, &dated); err != nil || dated == 0 {
		t.Fatalf("no sample study with both dates to compare (%v): the check above checked nothing", err)
	}
	var orphans int
	if err := db.NewRaw(`SELECT count(*) FROM patients p WHERE NOT EXISTS (SELECT 1 FROM studies s WHERE s.patient_id = p.id) AND p.patient_id NOT LIKE 'DEMO%'`).Scan(ctx, &orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d imported patients left without studies", orphans)
	}
	var depts int
	if err := db.NewRaw(`SELECT count(DISTINCT s.department_id) FROM studies s JOIN series se ON se.study_id = s.id`).Scan(ctx, &depts); err != nil || depts != 2 {
		t.Fatalf("images in %d departments (%v), want 2", depts, err)
	}
	// Running it again adds nothing.
	if n, err := seed.DICOM(ctx, db, root); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
}
