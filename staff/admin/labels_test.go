package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func labelNamed(t *testing.T, srv *testserver.Server, dept int64, name string) *database.Label {
	t.Helper()
	l := new(database.Label)
	if err := srv.DB.NewSelect().Model(l).Where("department_id = ? AND name = ?", dept, name).Scan(context.Background()); err != nil {
		t.Fatalf("label %q: %v", name, err)
	}
	return l
}

// An admin creates, renames, recolours and deletes a label; the palette and
// the name are validated (422, translated, on the field).
func TestLabelAdministration(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	c.Get("/staff/labels")
	if res, body := c.PostForm("/staff/labels", url.Values{"name": {" Follow-up "}, "color": {"#c0392b"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", res.StatusCode, body)
	}
	l := labelNamed(t, srv, d.ID, "Follow-up")
	for _, bad := range []struct {
		form       url.Values
		field, key string
		args       []any
	}{
		{url.Values{"name": {""}, "color": {"#c0392b"}}, "name", "labels.error.name.required", nil},
		{url.Values{"name": {strings.Repeat("x", 61)}, "color": {"#c0392b"}}, "name", "labels.error.name.toolong", []any{"Max", 60}},
		{url.Values{"name": {"Follow-up"}, "color": {"#c0392b"}}, "name", "labels.error.name.taken", nil},
		{url.Values{"name": {"Other"}, "color": {"#123456"}}, "color", "labels.error.colour", nil},
		{url.Values{"name": {"Other"}, "color": {"red"}}, "color", "labels.error.colour", nil},
	} {
		res, body := c.PostForm("/staff/labels", bad.form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%v: status %d", bad.form, res.StatusCode)
		}
		got := strings.TrimSpace(testserver.Doc(t, body).Find(`form[data-testid="label-create"] [data-field="` + bad.field + `"]`).Text())
		if want := i18n.T("en", bad.key, bad.args...); got != want {
			t.Fatalf("%v: message %q, want %q", bad.form, got, want)
		}
	}
	path := "/staff/labels/" + strconv.FormatInt(l.ID, 10)
	if res, _ := c.PostForm(path, url.Values{"name": {"Follow up"}, "color": {"#8e44ad"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatal("update failed")
	}
	if got := labelNamed(t, srv, d.ID, "Follow up"); got.Color != "#8e44ad" {
		t.Fatalf("colour %s", got.Color)
	}
	res, body := c.PostForm(path, url.Values{"name": {"Follow up"}, "color": {"#ffffff"}})
	if res.StatusCode != http.StatusUnprocessableEntity ||
		testserver.Doc(t, body).Find(`tr[data-label="`+strconv.FormatInt(l.ID, 10)+`"] [data-field="color"]`).Length() != 1 {
		t.Fatalf("bad colour on edit: %d", res.StatusCode)
	}
	// Deleting takes the label off its studies.
	s := testserver.MustPatientStudy(t, srv.DB, d, "P1", "Peeters", "Ann", nil)
	adam := loadUser(t, srv, "adam")
	if _, err := srv.DB.NewInsert().Model(&database.StudyLabel{StudyID: s.ID, LabelID: l.ID, UserID: &adam.ID}).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if res, _ := c.PostForm(path+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatal("delete failed")
	}
	var n int
	if n, _ = srv.DB.NewSelect().Table("study_labels").Count(context.Background()); n != 0 {
		t.Fatalf("%d study labels left", n)
	}
	for _, a := range []string{audit.LabelCreate, audit.LabelUpdate, audit.LabelDelete} {
		if auditCount(t, srv, a, "adam") != 1 {
			t.Errorf("%s not audited once", a)
		}
	}
}

// In the study list a user adds a label to a study (for themselves or a
// group), sees the labels that concern them or their groups, filters on
// "Contains labels", and removes one.
func TestStudyListLabels(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	ctx := context.Background()
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	ann, c := srv.SignedIn(t, "ann", database.RoleStaff, d)
	bob, bobC := srv.SignedIn(t, "bob", database.RoleStaff, d)
	_, carlC := srv.SignedIn(t, "carl", database.RoleStaff, d)
	g := &database.Group{DepartmentID: d.ID, Name: "Front desk"}
	if _, err := srv.DB.NewInsert().Model(g).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.NewInsert().Model(&database.GroupMember{GroupID: g.ID, UserID: bob.ID}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	l := &database.Label{DepartmentID: d.ID, Name: "Teaching", Color: "#27ae60"}
	if _, err := srv.DB.NewInsert().Model(l).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	s1 := testserver.MustPatientStudy(t, srv.DB, d, "P1", "Peeters", "Ann", nil)
	s2 := testserver.MustPatientStudy(t, srv.DB, d, "P2", "Janssens", "Bart", nil)
	doc := c.GetDoc("/staff/", http.StatusOK)
	if doc.Find(`[data-testid="label-tools"] #add-label option`).Length() != 1 || doc.Find(`#label option`).Length() != 2 {
		t.Fatal("the study list offers no label tools or filter")
	}
	lid := strconv.FormatInt(l.ID, 10)
	add := func(c *testserver.Client, s *database.Study, target string) string {
		res, body := c.PostForm("/staff/studies/"+strconv.FormatInt(s.ID, 10)+"/labels", url.Values{"add_label": {lid}, "add_label_for": {target}}, "HX-Request", "true")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("add label: %d\n%s", res.StatusCode, body)
		}
		return body
	}
	body := add(c, s1, "me")
	cell := cellDoc(t, body).Find(`td#labels-` + strconv.FormatInt(s1.ID, 10) + ` .label-chip`)
	if cell.Length() != 1 || !strings.HasPrefix(cell.Text(), "Teaching") {
		t.Fatalf("answer cell %q", body)
	}
	add(c, s1, "me") // twice: one label
	add(c, s2, "g:"+strconv.FormatInt(g.ID, 10))

	chips := func(c *testserver.Client, q string) map[int64]int {
		doc := c.GetDoc("/staff/"+q, http.StatusOK)
		out := map[int64]int{}
		for _, s := range []*database.Study{s1, s2} {
			n := doc.Find(`tr[data-study="` + strconv.FormatInt(s.ID, 10) + `"] .label-chip`).Length()
			if doc.Find(`tr[data-study="`+strconv.FormatInt(s.ID, 10)+`"]`).Length() == 0 {
				n = -1 // row not listed
			}
			out[s.ID] = n
		}
		return out
	}
	// ann sees her label on s1; bob (in the group) his group's on s2; carl none.
	for _, cs := range []struct {
		c      *testserver.Client
		who    string
		s1, s2 int
	}{{c, "ann", 1, 0}, {bobC, "bob", 0, 1}, {carlC, "carl", 0, 0}} {
		if got := chips(cs.c, ""); got[s1.ID] != cs.s1 || got[s2.ID] != cs.s2 {
			t.Errorf("%s sees chips %v", cs.who, got)
		}
	}
	// "Contains labels" keeps the studies whose label concerns the user.
	for _, cs := range []struct {
		c      *testserver.Client
		who    string
		s1, s2 int
	}{{c, "ann", 1, -1}, {bobC, "bob", -1, 1}, {carlC, "carl", -1, -1}} {
		if got := chips(cs.c, "?label="+lid); got[s1.ID] != cs.s1 || got[s2.ID] != cs.s2 {
			t.Errorf("%s filtered: %v", cs.who, got)
		}
	}
	var n int
	n, _ = srv.DB.NewSelect().Table("study_labels").Count(ctx)
	if n != 2 {
		t.Fatalf("%d study labels, want 2", n)
	}
	// Removing: carl cannot remove ann's label (it does not concern him).
	var sl database.StudyLabel
	if err := srv.DB.NewSelect().Model(&sl).Where("user_id = ?", ann.ID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	rm := "/staff/studies/" + strconv.FormatInt(s1.ID, 10) + "/labels/" + strconv.FormatInt(sl.ID, 10) + "/remove"
	carlC.Get("/staff/")
	if res, _ := carlC.PostForm(rm, nil, "HX-Request", "true"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("carl removing ann's label: %d", res.StatusCode)
	}
	res, body := c.PostForm(rm, nil, "HX-Request", "true")
	if res.StatusCode != http.StatusOK || cellDoc(t, body).Find(".label-chip").Length() != 0 {
		t.Fatalf("remove: %d\n%s", res.StatusCode, body)
	}
	if auditCount(t, srv, audit.LabelAdd, "ann") != 2 || auditCount(t, srv, audit.LabelRemove, "ann") != 1 {
		t.Fatal("label add/remove not audited")
	}
	// A label of another department cannot be put on a study.
	other := testserver.MustDepartment(t, srv.DB, "SOUTH")
	ol := &database.Label{DepartmentID: other.ID, Name: "Elsewhere", Color: "#27ae60"}
	if _, err := srv.DB.NewInsert().Model(ol).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	res, _ = c.PostForm("/staff/studies/"+strconv.FormatInt(s1.ID, 10)+"/labels",
		url.Values{"add_label": {strconv.FormatInt(ol.ID, 10)}, "add_label_for": {"me"}}, "HX-Request", "true")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("foreign label: %d", res.StatusCode)
	}
}

// cellDoc parses an htmx answer that is one table cell (an HTML parser drops
// a <td> outside a table, as htmx does not).
func cellDoc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	if !strings.HasPrefix(strings.TrimSpace(body), "<td") {
		t.Fatalf("answer is not a table cell: %.200s", body)
	}
	return testserver.Doc(t, "<table><tr>"+body+"</tr></table>")
}
