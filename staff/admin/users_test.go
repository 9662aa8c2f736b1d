package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func loadUser(t *testing.T, srv *testserver.Server, username string) *database.User {
	t.Helper()
	u := new(database.User)
	if err := srv.DB.NewSelect().Model(u).Where("username = ?", username).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return u
}

// userSessions counts the stored staff sessions of user id.
func userSessions(t *testing.T, srv *testserver.Server) int { return countSessions(t, srv) }

// An admin creates a user (who must choose a password at the first sign-in);
// each field rule answers 422 with a translated message on its field, and
// stores nothing.
func TestUserCreate(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	adm, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	testserver.MustUser(t, srv.DB, "taken", database.RoleStaff, d)
	valid := func() url.Values {
		return url.Values{"username": {" Nina.N "}, "display_name": {"Nina Noord"}, "email": {"nina@example.org"},
			"role": {"staff"}, "language": {"nl"}, "password": {"starting-password"}}
	}
	cases := []struct {
		name, field, key string
		args             []any
		set              map[string]string
	}{
		{"username required", "username", "users.error.username.required", nil, map[string]string{"username": " "}},
		{"username format", "username", "users.error.username.format", nil, map[string]string{"username": "nina noord!"}},
		{"username taken", "username", "users.error.username.taken", nil, map[string]string{"username": "TAKEN"}},
		{"display name long", "display_name", "users.error.toolong", []any{"Max", 200}, map[string]string{"display_name": strings.Repeat("é", 201)}},
		{"email", "email", "users.error.email", nil, map[string]string{"email": "nope"}},
		{"role", "role", "users.error.role", nil, map[string]string{"role": "boss"}},
		{"admin cannot make service desk", "role", "users.error.role", nil, map[string]string{"role": "servicedesk"}},
		{"language", "language", "users.error.language", nil, map[string]string{"language": "es"}},
		{"password short", "password", "users.error.password.short", []any{"Min", auth.MinPasswordLength}, map[string]string{"password": "short"}},
	}
	for _, lang := range []string{"en", "de"} {
		if _, err := srv.DB.NewUpdate().Model(adm).Set("language = ?", lang).WherePK().Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, cs := range cases {
			form := valid()
			for k, v := range cs.set {
				form.Set(k, v)
			}
			c.Get("/staff/users")
			res, body := c.PostForm("/staff/users", form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%s (%s): status %d, want 422", cs.name, lang, res.StatusCode)
			}
			got := strings.TrimSpace(testserver.Doc(t, body).Find(`[data-field="` + cs.field + `"]`).Text())
			if want := i18n.T(lang, cs.key, cs.args...); got != want {
				t.Fatalf("%s (%s): message %q, want %q", cs.name, lang, got, want)
			}
			if strings.Contains(body, "starting-password") || strings.Contains(body, "value=\"short\"") {
				t.Fatalf("%s: the password was echoed back", cs.name)
			}
		}
	}
	if n := auditCount(t, srv, audit.UserCreated, "adam"); n != 0 {
		t.Fatalf("%d user.create events for refused forms", n)
	}
	// The department field is ignored for an admin: the user lands in theirs.
	other := testserver.MustDepartment(t, srv.DB, "SOUTH")
	form := valid()
	form.Set("department", strconv.FormatInt(other.ID, 10))
	res, body := c.PostForm("/staff/users", form)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/users/") {
		t.Fatalf("create: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	u := loadUser(t, srv, "nina.n")
	if u.DepartmentID == nil || *u.DepartmentID != d.ID || u.Role != database.RoleStaff || u.Language != "nl" ||
		u.DisplayName != "Nina Noord" || !u.MustChangePassword || !auth.CheckPassword("starting-password", u.PasswordHash) {
		t.Fatalf("stored %+v", u)
	}
	if n := auditCount(t, srv, audit.UserCreated, "adam"); n != 1 {
		t.Fatalf("%d user.create events, want 1", n)
	}
	doc := c.GetDoc(res.Header.Get("Location"), http.StatusOK)
	if doc.Find(`[data-testid="must-change"]`).Length() != 1 {
		t.Error("the account page does not say the password must be changed")
	}
}

// Disabling a user ends their live session: their session rows are deleted
// at once and their next request is signed out.
func TestUserDisableEndsSession(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, admin := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	sam, samC := srv.SignedIn(t, "sam", database.RoleStaff, d)
	// A second browser of sam's.
	samC2 := srv.Client(t)
	samC2.SignIn("sam", testserver.Password)
	samC.GetDoc("/staff/", http.StatusOK)
	before := userSessions(t, srv)

	admin.Get("/staff/users/" + strconv.FormatInt(sam.ID, 10))
	res, body := admin.PostForm("/staff/users/"+strconv.FormatInt(sam.ID, 10)+"/disable", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d\n%s", res.StatusCode, body)
	}
	if after := userSessions(t, srv); after != before-2 {
		t.Fatalf("sessions %d -> %d: sam's two sessions should be gone", before, after)
	}
	for _, c := range []*testserver.Client{samC, samC2} {
		res, body := c.Get("/staff/")
		expectSignInRedirect(t, res, body)
	}
	// The admin is still signed in; sam cannot sign in again.
	admin.GetDoc("/staff/users", http.StatusOK)
	c := srv.Client(t)
	c.Get("/staff/signin")
	if res, _ := c.PostForm("/staff/signin", url.Values{"username": {"sam"}, "password": {testserver.Password}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("a disabled user signed in")
	}
	if n := auditCount(t, srv, audit.UserDisable, "adam"); n != 1 {
		t.Fatalf("%d user.disable events", n)
	}
	// Nobody disables themselves.
	adam := loadUser(t, srv, "adam")
	if res, _ := admin.PostForm("/staff/users/"+strconv.FormatInt(adam.ID, 10)+"/disable", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("self-disable: status %d, want 409", res.StatusCode)
	}
	// Enabled again, sam signs in.
	if res, _ := admin.PostForm("/staff/users/"+strconv.FormatInt(sam.ID, 10)+"/enable", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatal("enable failed")
	}
	samC.SignIn("sam", testserver.Password)
	samC.GetDoc("/staff/", http.StatusOK)
}

// A password reset ends the user's sessions; at the next sign-in the user
// must choose a new password before anything else, then is signed in.
func TestUserResetForcesPasswordChange(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, admin := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	sam, samC := srv.SignedIn(t, "sam", database.RoleStaff, d)
	path := "/staff/users/" + strconv.FormatInt(sam.ID, 10)
	admin.Get(path)
	if res, body := admin.PostForm(path+"/reset", url.Values{"password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, i18n.T("en", "users.error.password.short", "Min", auth.MinPasswordLength)) {
		t.Fatalf("short reset password: %d", res.StatusCode)
	}
	if res, _ := admin.PostForm(path+"/reset", url.Values{"password": {"temporary-pass-1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	res, body := samC.Get("/staff/")
	expectSignInRedirect(t, res, body)

	// The old password no longer works; the new one leads to the change page.
	c := srv.Client(t)
	c.Get("/staff/signin")
	if res, _ := c.PostForm("/staff/signin", url.Values{"username": {"sam"}, "password": {testserver.Password}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("the old password still signs in")
	}
	c = srv.Client(t)
	c.Get("/staff/signin?next=/staff/settings")
	res, body = c.PostForm("/staff/signin", url.Values{"username": {"sam"}, "password": {"temporary-pass-1"}, "next": {"/staff/"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/password" {
		t.Fatalf("sign-in after reset: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	// Not signed in yet: every other page sends back to sign-in.
	for _, p := range []string{"/staff/", "/staff/print"} {
		res, body := c.Get(p)
		expectSignInRedirect(t, res, body)
	}
	doc := c.GetDoc("/staff/password", http.StatusOK)
	if doc.Find(`[data-testid="password-form"]`).Length() != 1 {
		t.Fatal("no change-password form")
	}
	for _, bad := range []struct{ pw, repeat, field, key string }{
		{"short", "short", "password", "users.error.password.short"},
		{"brand-new-password", "brand-new-passwort", "repeat", "users.error.password.repeat"},
		{"temporary-pass-1", "temporary-pass-1", "password", "users.error.password.same"},
	} {
		res, body := c.PostForm("/staff/password", url.Values{"password": {bad.pw}, "repeat": {bad.repeat}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: status %d", bad.key, res.StatusCode)
		}
		got := strings.TrimSpace(testserver.Doc(t, body).Find(`[data-field="` + bad.field + `"]`).Text())
		if !strings.HasPrefix(got, strings.Split(i18n.T("en", bad.key, "Min", auth.MinPasswordLength), "{")[0]) {
			t.Fatalf("%s: message %q", bad.key, got)
		}
	}
	res, body = c.PostForm("/staff/password", url.Values{"password": {"brand-new-password"}, "repeat": {"brand-new-password"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff/" {
		t.Fatalf("change: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	c.GetDoc("/staff/", http.StatusOK)
	u := loadUser(t, srv, "sam")
	if u.MustChangePassword || !auth.CheckPassword("brand-new-password", u.PasswordHash) {
		t.Fatal("new password not stored, or still marked")
	}
	if auditCount(t, srv, audit.UserReset, "adam") != 1 || auditCount(t, srv, audit.UserPasswordChange, "sam") != 1 {
		t.Fatal("reset or change not audited")
	}
	// The change page is closed now.
	res, _ = c.Get("/staff/password")
	expectSignInRedirect(t, res, "")
}
