package account_test

import (
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func TestSignInReachesStudyList(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	doc := c.GetDoc("/staff/", http.StatusOK)
	if got := doc.Find(`[data-testid="department"]`).Text(); got != d.Name {
		t.Fatalf("header shows department %q, want %q", got, d.Name)
	}
}
