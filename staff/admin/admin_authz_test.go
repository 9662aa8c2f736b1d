package admin_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// adminFixture is two departments with users, a group, a label, a study and
// a logo in department A, whose names all carry the marker secretA.
type adminFixture struct {
	srv    *testserver.Server
	a, b   *database.Department
	target *database.User // a staff user of A
	group  *database.Group
	label  *database.Label
	study  *database.Study
}

const secretA = "SECRET-A"

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	srv := testserver.New(t)
	ctx := context.Background()
	f := &adminFixture{srv: srv}
	f.a = testserver.MustDepartment(t, srv.DB, "DEPT-A")
	f.b = testserver.MustDepartment(t, srv.DB, "DEPT-B")
	f.target = testserver.MustUser(t, srv.DB, "target.a", database.RoleStaff, f.a)
	if _, err := srv.DB.NewUpdate().Model(f.target).Set("display_name = ?", secretA+" Target").WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	f.group = &database.Group{DepartmentID: f.a.ID, Name: secretA + " group"}
	f.label = &database.Label{DepartmentID: f.a.ID, Name: secretA + " label", Color: "#c0392b"}
	for _, v := range []any{f.group, f.label} {
		if _, err := srv.DB.NewInsert().Model(v).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f.study = testserver.MustPatientStudy(t, srv.DB, f.a, "P-"+secretA, secretA+"-family", "Given", nil)
	// An audit event of A that names the marker.
	if err := audit.Record(ctx, srv.DB, &audit.Event{Action: audit.LabelCreate, ActorKind: "staff", ActorName: "adam",
		DepartmentID: &f.a.ID, Details: map[string]any{"name": secretA + " label"}}); err != nil {
		t.Fatal(err)
	}
	png, w, h, err := departments.NormalizeLogo(testPNG(t, 40, 20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.NewInsert().Model(&database.DepartmentLogo{DepartmentID: f.a.ID, PNG: png, Width: w, Height: h}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{200, 30, 40, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (f *adminFixture) fresh(t *testing.T, kind, name string) int64 {
	t.Helper()
	ctx := context.Background()
	switch kind {
	case "group":
		g := &database.Group{DepartmentID: f.a.ID, Name: secretA + " " + name}
		if _, err := f.srv.DB.NewInsert().Model(g).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return g.ID
	case "label":
		l := &database.Label{DepartmentID: f.a.ID, Name: secretA + " " + name, Color: "#2e86c1"}
		if _, err := f.srv.DB.NewInsert().Model(l).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	t.Fatalf("kind %s", kind)
	return 0
}

// studyLabelFor puts the fixture's label on the study for u and returns the row id.
func (f *adminFixture) studyLabelFor(t *testing.T, u *database.User) int64 {
	t.Helper()
	sl := &database.StudyLabel{StudyID: f.study.ID, LabelID: f.label.ID, UserID: &u.ID}
	if _, err := f.srv.DB.NewInsert().Model(sl).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sl.ID
}

// Every route of the administration pages and the study-list label actions,
// for each role, in order: the exact status, and for every answer but the
// allowed ones of department A's own admin and the service desk, none of
// department A's names in the body.
func TestAdminRoutesAuthorization(t *testing.T) {
	t.Parallel()
	f := newAdminFixture(t)
	type role struct {
		name   string
		user   *database.User
		client *testserver.Client
		seesA  bool // may see department A's data
	}
	ann, annC := f.srv.SignedIn(t, "ann", database.RoleStaff, f.a)
	adam, adamC := f.srv.SignedIn(t, "adam", database.RoleAdmin, f.a)
	bert, bertC := f.srv.SignedIn(t, "bert", database.RoleAdmin, f.b)
	desk, deskC := f.srv.SignedIn(t, "desk", database.RoleServiceDesk, nil)
	roles := []role{
		{"staff", ann, annC, false},
		{"admin-own", adam, adamC, true},
		{"admin-other", bert, bertC, false},
		{"servicedesk", desk, deskC, true},
		{"signed-out", nil, f.srv.Client(t), false},
	}
	id := func(v int64) string { return strconv.FormatInt(v, 10) }
	a := id(f.a.ID)
	type route struct {
		method, path string
		form         func(r role) url.Values
		htmx         bool
		want         [5]int // staff, admin-own, admin-other, servicedesk, signed-out
	}
	const (
		ok, see, unp, forb, nf, unauth = http.StatusOK, http.StatusSeeOther, http.StatusUnprocessableEntity, http.StatusForbidden, http.StatusNotFound, http.StatusUnauthorized
	)
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) {
			delGroup := f.fresh(t, "group", "del-"+r.name)
			delLabel := f.fresh(t, "label", "del-"+r.name)
			addLabel := f.fresh(t, "label", "add-"+r.name)
			var mySL int64
			if r.user != nil {
				mySL = f.studyLabelFor(t, r.user)
			} else {
				mySL = f.studyLabelFor(t, f.target)
			}
			deskDept := func(r role) url.Values {
				if r.name == "servicedesk" {
					return url.Values{"department": {a}}
				}
				return url.Values{}
			}
			routes := []route{
				{"GET", "/staff/users", nil, false, [5]int{forb, ok, ok, ok, see}},
				{"GET", "/staff/users?department=" + a, nil, false, [5]int{forb, ok, ok, ok, see}},
				{"POST", "/staff/users", func(r role) url.Values {
					v := deskDept(r)
					v.Set("username", "new-"+r.name)
					v.Set("role", "staff")
					v.Set("password", "a-long-start-password")
					return v
				}, false, [5]int{forb, see, see, see, unauth}},
				{"GET", "/staff/users/" + id(f.target.ID), nil, false, [5]int{forb, ok, nf, ok, see}},
				{"POST", "/staff/users/" + id(f.target.ID) + "/disable", nil, false, [5]int{forb, see, nf, see, unauth}},
				{"POST", "/staff/users/" + id(f.target.ID) + "/enable", nil, false, [5]int{forb, see, nf, see, unauth}},
				{"POST", "/staff/users/" + id(f.target.ID) + "/reset", func(role) url.Values {
					return url.Values{"password": {"another-start-password"}}
				}, false, [5]int{forb, see, nf, see, unauth}},
				{"GET", "/staff/groups", nil, false, [5]int{forb, ok, ok, ok, see}},
				{"GET", "/staff/groups?department=" + a, nil, false, [5]int{forb, ok, ok, ok, see}},
				{"POST", "/staff/groups", func(r role) url.Values {
					v := deskDept(r)
					v.Set("name", "group of "+r.name)
					return v
				}, false, [5]int{forb, see, see, see, unauth}},
				{"GET", "/staff/groups/" + id(f.group.ID), nil, false, [5]int{forb, ok, nf, ok, see}},
				{"POST", "/staff/groups/" + id(f.group.ID) + "/rename", func(r role) url.Values {
					return url.Values{"name": {secretA + " group " + r.name}}
				}, false, [5]int{forb, see, nf, see, unauth}},
				{"POST", "/staff/groups/" + id(f.group.ID) + "/members", func(role) url.Values {
					return url.Values{"user": {id(f.target.ID)}}
				}, false, [5]int{forb, see, nf, see, unauth}},
				{"POST", "/staff/groups/" + id(f.group.ID) + "/members/" + id(f.target.ID) + "/remove", nil, false, [5]int{forb, see, nf, see, unauth}},
				{"POST", "/staff/groups/" + id(delGroup) + "/delete", nil, false, [5]int{forb, see, nf, see, unauth}},
				{"GET", "/staff/labels", nil, false, [5]int{forb, ok, ok, ok, see}},
				{"GET", "/staff/labels?department=" + a, nil, false, [5]int{forb, ok, ok, ok, see}},
				{"POST", "/staff/labels", func(r role) url.Values {
					v := deskDept(r)
					v.Set("name", "label of "+r.name)
					v.Set("color", "#27ae60")
					return v
				}, false, [5]int{forb, see, see, see, unauth}},
				{"POST", "/staff/labels/" + id(f.label.ID), func(role) url.Values {
					return url.Values{"name": {f.label.Name}, "color": {"#8e44ad"}}
				}, false, [5]int{forb, see, nf, see, unauth}},
				{"POST", "/staff/labels/" + id(delLabel) + "/delete", nil, false, [5]int{forb, see, nf, see, unauth}},
				{"POST", "/staff/studies/" + id(f.study.ID) + "/labels", func(role) url.Values {
					return url.Values{"add_label": {id(addLabel)}, "add_label_for": {"me"}}
				}, true, [5]int{ok, ok, nf, ok, unauth}},
				{"POST", "/staff/studies/" + id(f.study.ID) + "/labels/" + id(mySL) + "/remove", nil, true, [5]int{ok, ok, nf, ok, unauth}},
				{"GET", "/staff/audit", nil, false, [5]int{forb, ok, ok, ok, see}},
				{"GET", "/staff/audit?action=label.create", nil, false, [5]int{forb, ok, ok, ok, see}},
				{"GET", "/staff/audit.csv", nil, false, [5]int{forb, ok, ok, ok, see}},
				{"GET", "/staff/settings/logo?department=" + a, nil, false, [5]int{forb, ok, nf, ok, see}},
				{"GET", "/staff/password", nil, false, [5]int{see, see, see, see, see}},
				{"POST", "/staff/password", func(role) url.Values {
					return url.Values{"password": {"whatever-password-1"}, "repeat": {"whatever-password-1"}}
				}, false, [5]int{unauth, unauth, unauth, unauth, unauth}},
				// Validation answers 422 only to those allowed to act.
				{"POST", "/staff/labels", func(r role) url.Values {
					v := deskDept(r)
					v.Set("name", "")
					v.Set("color", "#000000")
					return v
				}, false, [5]int{forb, unp, unp, unp, unauth}},
			}
			idx := map[string]int{"staff": 0, "admin-own": 1, "admin-other": 2, "servicedesk": 3, "signed-out": 4}[r.name]
			for _, rt := range routes {
				var res *http.Response
				var body string
				var hdr []string
				if rt.htmx {
					hdr = []string{"HX-Request", "true"}
				}
				if rt.method == "GET" {
					res, body = r.client.Get(rt.path, hdr...)
				} else {
					var form url.Values
					if rt.form != nil {
						form = rt.form(r)
					} else {
						form = url.Values{}
					}
					res, body = r.client.PostForm(rt.path, form, hdr...)
				}
				want := rt.want[idx]
				if res.StatusCode != want {
					t.Errorf("%s %s as %s: status %d, want %d\n%.600s", rt.method, rt.path, r.name, res.StatusCode, want, body)
					continue
				}
				// Staff of A see A's labels on A's studies (the study-list actions).
				sees := r.seesA || (r.name == "staff" && rt.htmx)
				allowed := sees && (want == ok || want == see || want == unp)
				if !allowed && (strings.Contains(body, secretA) || strings.Contains(body, "target.a")) {
					t.Errorf("%s %s as %s (%d): body shows department A's data\n%.2000s", rt.method, rt.path, r.name, res.StatusCode, body)
				}
			}
		})
	}
	// The admins' and the service desk's actions were recorded.
	for _, who := range []string{"adam", "desk"} {
		for _, action := range []string{audit.UserCreated, audit.UserDisable, audit.UserEnable, audit.UserReset, audit.GroupCreate,
			audit.GroupUpdate, audit.GroupMemberAdd, audit.GroupMemberRemove, audit.GroupDelete, audit.LabelCreate,
			audit.LabelUpdate, audit.LabelDelete, audit.LabelAdd, audit.LabelRemove, audit.AuditExport} {
			if n := auditCount(t, f.srv, action, who); n < 1 {
				t.Errorf("no %s event by %s", action, who)
			}
		}
	}
}
