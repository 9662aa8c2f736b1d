package buckets_test

import (
	"errors"
	"testing"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// Printing the same studies twice with "Add label" (a second letter, a
// reprint in another language) leaves one label row per study and target,
// as putting a label on a study by hand does, so the study list shows the
// label once, not once per print.
func TestPrintWithALabelTwiceLabelsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	label := f.label()
	for i := 0; i < 3; i++ {
		r := f.request(database.VerifyDOB)
		r.LabelID, r.LabelUserID = label, &f.staff.ID
		f.printReq(r, nil, nil)
	}
	if n := f.count(`SELECT count(*) FROM study_labels`); n != len(f.studies) {
		t.Fatalf("%d label rows after three labelled prints of %d studies, want one per study", n, len(f.studies))
	}
	// For another target it is another row.
	r := f.request(database.VerifyDOB)
	r.LabelID, r.LabelUserID = label, &f.admin.ID
	f.printReq(r, nil, nil)
	if n := f.count(`SELECT count(*) FROM study_labels`); n != 2*len(f.studies) {
		t.Fatalf("%d label rows, want %d", n, 2*len(f.studies))
	}
}

// A label deleted after the print form was checked: the print is refused
// with the label field's error and stores nothing, not a foreign key
// violation (a 500).
func TestPrintWithALabelDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	label := f.label()
	if _, err := f.db.ExecContext(f.ctx, `DELETE FROM labels WHERE id = ?`, label); err != nil {
		t.Fatal(err)
	}
	r := f.request(database.VerifyDOB)
	r.LabelID, r.LabelUserID = label, &f.staff.ID
	_, err := f.create(f.staff, r, buckets.Hooks{})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Field != "label" {
		t.Fatalf("print with a deleted label: %v, want the label field's error", err)
	}
	if got := f.stored(); got != [4]int{} {
		t.Fatalf("the refused print stored %v", got)
	}
}
