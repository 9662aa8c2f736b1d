package patient_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// CSRF tokens are bound to the patient session, as to the staff one: a token
// from before sign-in (or one planted in the browser) and another patient's
// token are refused on a patient form once signed in; the refusal page and
// the sign-in response itself hand out a token bound to the new session,
// with which the signed-in flow goes on.
func TestPatientCSRFBoundToSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	_, other := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	otherClient := signedIn(t, f.srv, other, birth)
	otherClient.GetDoc("/p/", http.StatusOK)

	c := f.srv.Client(t)
	c.Get("/")
	before := c.CSRF
	res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", res.StatusCode)
	}
	fresh := res.Header.Get("X-Csrf-Token")
	session := c.Cookie("radpass_patient").Value
	post := func(token string) (int, string) {
		res, body := testserver.Raw(t, http.MethodPost, f.srv.URL+"/p/signout", "radpass_patient="+session+"; radpass_csrf="+token,
			url.Values{"_csrf": {token}}, "Origin", f.srv.URL)
		return res.StatusCode, body
	}
	for _, tt := range []struct{ name, token string }{
		{"token from before sign-in", before},
		{"another patient's token", otherClient.CSRF},
	} {
		status, body := post(tt.token)
		if status != http.StatusForbidden {
			t.Fatalf("%s: status %d, want 403", tt.name, status)
		}
		// The refusal page's forms carry a token bound to this session.
		tok, ok := testserver.Doc(t, body).Find(`input[name="_csrf"]`).Attr("value")
		if !ok || tok == tt.token || tok == before {
			t.Fatalf("%s: the refusal page hands out %q", tt.name, tok)
		}
		if c.GetDoc("/p/", http.StatusOK).Find(`form[action="/p/signout"]`).Length() != 1 {
			t.Fatalf("%s: the refused sign-out ended the session", tt.name)
		}
		if tt.name == "another patient's token" {
			if status, _ := post(tok); status != http.StatusSeeOther {
				t.Fatalf("the refusal page's token: status %d, want 303", status)
			}
		}
	}

	if fresh == "" || fresh == before || testserver.ResponseCookie(res, "radpass_csrf") != fresh {
		t.Fatalf("sign-in handed out no new bound token (header %q, cookie %q)", fresh, testserver.ResponseCookie(res, "radpass_csrf"))
	}

	// The signed-in flow: the page's token signs out.
	c2 := f.srv.Client(t)
	c2.Get("/")
	res, _ = c2.PostForm("/p/signin", signInForm(n.Canonical(), birth))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second sign-in answered %d", res.StatusCode)
	}
	page := c2.GetDoc("/p/", http.StatusOK)
	tok, _ := page.Find(`form[action="/p/signout"] input[name="_csrf"]`).Attr("value")
	if tok != c2.CSRF || tok == "" {
		t.Fatalf("the signed-in page's token %q is not the client's %q", tok, c2.CSRF)
	}
	if res, _ := c2.PostForm("/p/signout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out answered %d", res.StatusCode)
	}
}

// A sign-in answered in place (htmx: the viewer of a one-study bucket) hands
// the swapped-in viewer and the X-Csrf-Token header (which static/app.js puts
// into the rest of the page) a token bound to the new session.
func TestPatientHTMXSignInRebindsCSRF(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	srv.MustImportSamples(t, d)
	var study int64
	if err := srv.DB.NewRaw(`SELECT se.study_id FROM instances i JOIN series se ON se.id = i.series_id ORDER BY i.size_bytes LIMIT 1`).Scan(t.Context(), &study); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.DB.ExecContext(t.Context(), `UPDATE patients SET birth_date = '1961-03-09' WHERE id = (SELECT patient_id FROM studies WHERE id = ?)`, study); err != nil {
		t.Fatal(err)
	}
	_, n := srv.MustBucket(t, u, []*database.Study{{ID: study}}, testserver.BucketSpec{})
	c := srv.Client(t)
	c.Get("/")
	before := c.CSRF
	res, body := c.PostForm("/p/signin", signInForm(n.Canonical(), birth), "HX-Request", "true")
	if res.StatusCode != http.StatusOK || res.Header.Get("HX-Push-Url") == "" {
		t.Fatalf("htmx sign-in answered %d (push %q)", res.StatusCode, res.Header.Get("HX-Push-Url"))
	}
	fresh := res.Header.Get("X-Csrf-Token")
	tok, _ := testserver.Doc(t, body).Find(`form[action="/p/signout"] input[name="_csrf"]`).Attr("value")
	if fresh == "" || fresh == before || tok != fresh {
		t.Fatalf("viewer token %q, header %q, before %q", tok, fresh, before)
	}
	if res, _ := c.PostForm("/p/signout", url.Values{"_csrf": {before}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("the token from before sign-in: %d, want 403", res.StatusCode)
	}
	if res, _ := c.PostForm("/p/signout", url.Values{"_csrf": {fresh}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the new token: %d, want 303", res.StatusCode)
	}
}
