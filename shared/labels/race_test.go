package labels_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/labels"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func isCode(err error, code string) bool {
	var ae *apperr.Error
	return errors.As(err, &ae) && ae.Code == code
}

func events(t *testing.T, db bun.IDB, action string, label int64) int {
	t.Helper()
	n, err := db.NewSelect().Model((*audit.Event)(nil)).Where("action = ? AND details->>'label_id' = ?", action, itoa(label)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Two deletes (or a rename and a delete) of one label that pass their
// checks together: the label is deleted once, one request hears "deleted"
// and the trail holds one event; the other is NotFound. Neither a second
// delete nor a rename racing the delete says "saved" or writes an event
// about a label that is gone.
func TestConcurrentChangesOfOneLabel(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "RACE")
	admin := testserver.MustUser(t, db, "race.admin", database.RoleAdmin, dept)
	actor := audit.Staff(admin, "127.0.0.1")
	for _, c := range []struct {
		name  string
		other func(id int64) error
		event string
	}{
		{"delete and delete", func(id int64) error { return labels.Delete(ctx, db, actor, id) }, audit.LabelDelete},
		{"delete and rename", func(id int64) error {
			_, err := labels.Update(ctx, db, actor, id, "Renamed", labels.Palette[1].Hex)
			return err
		}, audit.LabelUpdate},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := labels.Create(ctx, db, actor, dept.ID, "Label "+c.name, labels.Palette[0].Hex)
			if err != nil {
				t.Fatal(err)
			}
			blocker, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer blocker.Rollback()
			if _, err := blocker.NewRaw("SELECT id FROM labels WHERE id = ? FOR UPDATE", l.ID).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			errs := testdb.Behind(t, db, blocker,
				func() error { return labels.Delete(ctx, db, actor, l.ID) },
				func() error { return c.other(l.ID) })
			ok, gone := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case isCode(err, apperr.NotFound):
					gone++
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
			deletes, others := events(t, db, audit.LabelDelete, l.ID), events(t, db, c.event, l.ID)
			if c.event == audit.LabelDelete {
				others = 0
			}
			// The delete queued first: it happens once, the other request
			// finds nothing (no success, no event after the deletion).
			if ok != 1 || gone != 1 || deletes != 1 || others != 0 {
				t.Errorf("%d succeeded, %d not found; trail: %d delete, %d %s events", ok, gone, deletes, others, c.event)
			}
			var last string
			if err := db.NewRaw("SELECT action FROM audit_events WHERE details->>'label_id' = ? ORDER BY id DESC LIMIT 1", itoa(l.ID)).Scan(ctx, &last); err != nil {
				t.Fatal(err)
			}
			if last != audit.LabelDelete {
				t.Errorf("the trail's last event of the label is %s, after its deletion", last)
			}
		})
	}
}

// A label deleted while someone puts it on a study (both passed their
// checks): the add is refused with the form's message, not a foreign key
// violation (a 500 page).
func TestAddToStudyRacingLabelDelete(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "RACE")
	admin := testserver.MustUser(t, db, "race.admin", database.RoleAdmin, dept)
	actor := audit.Staff(admin, "127.0.0.1")
	st := testserver.MustPatientStudy(t, db, dept, "P1", "Race", "Ann", nil)
	l, err := labels.Create(ctx, db, actor, dept.ID, "Doomed", labels.Palette[0].Hex)
	if err != nil {
		t.Fatal(err)
	}
	blocker, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	// The delete, not yet committed, holds the add's lock: the add's checks
	// still see the label.
	if _, err := blocker.NewRaw("SELECT pg_advisory_xact_lock(?, ?)", int32(st.ID), int32(l.ID)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.NewRaw("DELETE FROM labels WHERE id = ?", l.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	errs := testdb.Behind(t, db, blocker, func() error {
		return labels.AddToStudy(ctx, db, actor, st.ID, l.ID, labels.Target{UserID: &admin.ID})
	})
	var ae *apperr.Error
	if !errors.As(errs[0], &ae) || ae.Code != apperr.Invalid || ae.Field != "label" {
		t.Fatalf("add of a label deleted meanwhile: %v, want the label field's error", errs[0])
	}
	if n := testdb.Count(t, db, "study_labels"); n != 0 {
		t.Errorf("%d study labels", n)
	}
}

// Two removals of one label from a study at once: one event.
func TestConcurrentRemoveFromStudy(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	dept := testserver.MustDepartment(t, db, "RACE")
	admin := testserver.MustUser(t, db, "race.admin", database.RoleAdmin, dept)
	actor := audit.Staff(admin, "127.0.0.1")
	st := testserver.MustPatientStudy(t, db, dept, "P1", "Race", "Ann", nil)
	l, err := labels.Create(ctx, db, actor, dept.ID, "Twice", labels.Palette[0].Hex)
	if err != nil {
		t.Fatal(err)
	}
	if err := labels.AddToStudy(ctx, db, actor, st.ID, l.ID, labels.Target{UserID: &admin.ID}); err != nil {
		t.Fatal(err)
	}
	var sl int64
	if err := db.NewRaw("SELECT id FROM study_labels WHERE label_id = ?", l.ID).Scan(ctx, &sl); err != nil {
		t.Fatal(err)
	}
	blocker, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	if _, err := blocker.NewRaw("SELECT id FROM study_labels WHERE id = ? FOR UPDATE", sl).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	rm := func() error { return labels.RemoveFromStudy(ctx, db, actor, st.ID, sl) }
	errs := testdb.Behind(t, db, blocker, rm, rm)
	if n := events(t, db, audit.LabelRemove, l.ID); n != 1 || (errs[0] == nil) == (errs[1] == nil) {
		t.Errorf("errors %v; %d label.remove events, want one success and one event", errs, n)
	}
}
