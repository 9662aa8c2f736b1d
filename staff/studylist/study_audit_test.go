package studylist_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Opening a study page is an audited view of patient data; the viewer's htmx
// steps inside the page are not recorded one by one.
func TestStudyViewIsAudited(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	north := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, north)
	ct := dicomFixture(t, srv, north)
	c := srv.Client(t)
	c.SignIn("ann", testserver.Password)

	page := fmt.Sprintf("/staff/studies/%d", ct)
	if res, _ := c.Get(page); res.StatusCode != http.StatusOK {
		t.Fatalf("study page: %d", res.StatusCode)
	}
	if res, _ := c.Get(page+"?f=1", "HX-Request", "true"); res.StatusCode != http.StatusOK {
		t.Fatalf("viewer step: %d", res.StatusCode)
	}
	var rows []struct {
		ActorID      int64 `bun:"actor_id"`
		DepartmentID int64 `bun:"department_id"`
		StudyID      int64 `bun:"study_id"`
	}
	if err := srv.DB.NewRaw(`SELECT actor_id, department_id, (details->>'study_id')::bigint AS study_id
		FROM audit_events WHERE action = 'study.view'`).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d view events, want 1 (page load only)", len(rows))
	}
	if r := rows[0]; r.ActorID != u.ID || r.DepartmentID != north.ID || r.StudyID != ct {
		t.Fatalf("view event %+v, want actor %d, department %d, study %d", r, u.ID, north.ID, ct)
	}
}
