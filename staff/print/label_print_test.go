package print_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A department admin creates a label, prints a letter with "Add label" for
// a colleague, and the colleague sees the label on the printed study in the
// study list (the admin, for whom it was not set, does not).
func TestLabelSetWhenPrintingShowsOnTheStudy(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	srv.App.Staff.Print.Now = func() time.Time { return testserver.PrintToday }
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	colleague, cc := srv.SignedIn(t, "cora", database.RoleStaff, d)
	_, admin := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	bd := time.Date(1961, 3, 9, 0, 0, 0, 0, time.UTC)
	st := testserver.MustPatientStudy(t, srv.DB, d, "P001", "Łukasik", "Zoë", &bd)

	admin.GetDoc("/staff/labels", http.StatusOK)
	if res, _ := admin.PostForm("/staff/labels", url.Values{"name": {"Second opinion"}, "color": {"#27ae60"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create label: %d", res.StatusCode)
	}
	var labelID int64
	if err := srv.DB.NewRaw(`SELECT id FROM labels WHERE name = 'Second opinion'`).Scan(t.Context(), &labelID); err != nil {
		t.Fatal(err)
	}
	form := (&testserver.PrintFixture{Studies: []*database.Study{st}}).ValidForm()
	form.Set("add_label", "1")
	form.Set("label", strconv.FormatInt(labelID, 10))
	form.Set("label_for", "u:"+strconv.FormatInt(colleague.ID, 10))
	admin.GetDoc("/staff/print?study="+strconv.FormatInt(st.ID, 10), http.StatusOK)
	if res, body := admin.PostForm("/staff/print", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("print with a label: %d\n%.500s", res.StatusCode, body)
	}
	cell := func(c *testserver.Client) string {
		doc := c.GetDoc("/staff/", http.StatusOK)
		return doc.Find("#labels-" + strconv.FormatInt(st.ID, 10)).Text()
	}
	if got := cell(cc); !strings.Contains(got, "Second opinion") {
		t.Fatalf("the colleague's study list shows %q on the printed study", got)
	}
	if got := cell(admin); strings.Contains(got, "Second opinion") {
		t.Fatalf("a label set for the colleague shows for the admin: %q", got)
	}
}
