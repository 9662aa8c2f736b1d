package patient_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// signedIn returns a patient client signed in to a dob bucket.
func signedIn(t *testing.T, srv *testserver.Server, n refnum.Number, d time.Time) *testserver.Client {
	t.Helper()
	c := srv.Client(t)
	c.Get("/")
	res, _ := c.PostForm("/p/signin", signInForm(n.Canonical(), d))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/p/" {
		t.Fatalf("sign-in answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	return c
}

func withReport(t *testing.T, srv *testserver.Server, st *database.Study, status string, availableAt *time.Time) {
	t.Helper()
	if _, err := srv.DB.ExecContext(t.Context(), `UPDATE studies SET report_status = ?, report_text = 'No abnormality. Łódź ß', report_available_at = ? WHERE id = ?`,
		status, availableAt, st.ID); err != nil {
		t.Fatal(err)
	}
}

// The report route itself answers 404 unless scope, anonymization, status
// and embargo all allow it (security requirement 10).
func TestReportRoute(t *testing.T) {
	f := newFixture(t)
	past, future := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	cases := []struct {
		name      string
		scope     string
		anonymize bool
		status    string
		at        *time.Time
		want      int
	}{
		{"images and report, final, released", database.ScopeImagesReport, false, "final", &past, http.StatusOK},
		{"no embargo", database.ScopeImagesReport, false, "final", nil, http.StatusOK},
		{"images only", database.ScopeImages, false, "final", nil, http.StatusNotFound},
		{"anonymized", database.ScopeImagesReport, true, "final", nil, http.StatusNotFound},
		{"before the embargo", database.ScopeImagesReport, false, "final", &future, http.StatusNotFound},
		{"preliminary", database.ScopeImagesReport, false, "preliminary", nil, http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			withReport(t, f.srv, f.studies[0], tc.status, tc.at)
			_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Scope: tc.scope, Anonymize: tc.anonymize})
			c := signedIn(t, f.srv, n, birth)
			res, body := c.Get("/p/studies/" + strconv.FormatInt(f.studies[0].ID, 10) + "/report")
			if res.StatusCode != tc.want {
				t.Fatalf("report answered %d, want %d", res.StatusCode, tc.want)
			}
			if has := strings.Contains(body, "No abnormality"); has != (tc.want == http.StatusOK) {
				t.Fatalf("report text shown: %v", has)
			}
			page := c.GetDoc("/p/studies/"+strconv.FormatInt(f.studies[0].ID, 10), http.StatusOK)
			if link := page.Find("[data-testid=report-link]").Length() == 1; link != (tc.want == http.StatusOK) {
				t.Fatalf("report link shown: %v", link)
			}
		})
	}
}

// A session of bucket A gets 404 on anything of bucket B.
func TestBucketIsolation(t *testing.T) {
	f := newFixture(t)
	other := birth.AddDate(2, 0, 0)
	sb := testserver.MustPatientStudy(t, f.srv.DB, f.dept, "P002", "Other", "Person", &other)
	withReport(t, f.srv, sb, "final", nil)
	var inst int64
	if err := f.srv.DB.NewRaw(`WITH se AS (INSERT INTO series (study_id, series_uid, modality) VALUES (?, '2.25.77', 'CT') RETURNING id)
		INSERT INTO instances (series_id, sop_uid, sop_class_uid, storage_key, frames) SELECT id, '2.25.78', '1.2.840.10008.5.1.4.1.1.2', 'deadbeef', 1 FROM se RETURNING id`, sb.ID).Scan(t.Context(), &inst); err != nil {
		t.Fatal(err)
	}
	f.srv.MustBucket(t, f.staff, []*database.Study{sb}, testserver.BucketSpec{Scope: database.ScopeImagesReport})
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Scope: database.ScopeImagesReport})
	c := signedIn(t, f.srv, n, birth)
	id := strconv.FormatInt(sb.ID, 10)
	for _, path := range []string{"/p/studies/" + id, "/p/studies/" + id + "/report", "/p/studies/" + id + "/report.pdf", "/p/images/" + strconv.FormatInt(inst, 10)} {
		res, body := c.Get(path)
		if res.StatusCode != http.StatusNotFound || strings.Contains(body, "Other") {
			t.Errorf("%s answered %d", path, res.StatusCode)
		}
	}
}

// Every request re-checks the bucket: a revoked bucket ends the session.
func TestRevokedBucketEndsSession(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	c := signedIn(t, f.srv, n, birth)
	c.GetDoc("/p/", http.StatusOK)
	admin := testserver.MustUser(t, f.srv.DB, "boss", database.RoleAdmin, f.dept)
	if _, err := f.srv.App.Buckets.Revoke(t.Context(), admin, b.ID, "127.0.0.1", "letter sent to the wrong address"); err != nil {
		t.Fatal(err)
	}
	res, _ := c.Get("/p/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("after revoke /p/ answered %d -> %q", res.StatusCode, res.Header.Get("Location"))
	}
	var sessions int
	if err := f.srv.DB.NewRaw(`SELECT count(*) FROM sessions WHERE kind = 'patient'`).Scan(t.Context(), &sessions); err != nil || sessions != 0 {
		t.Fatalf("%d patient sessions left (%v)", sessions, err)
	}
}

// An anonymized bucket never shows the name.
func TestAnonymizedBucketHidesName(t *testing.T) {
	f := newFixture(t)
	b, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{Anonymize: true})
	c := signedIn(t, f.srv, n, birth)
	for _, path := range []string{"/p/", "/p/studies/" + strconv.FormatInt(f.studies[0].ID, 10)} {
		_, body := c.Get(path)
		if strings.Contains(body, "Łukasik") || strings.Contains(body, "Zoë") || strings.Contains(body, "P001") {
			t.Fatalf("%s shows the name of an anonymized bucket", path)
		}
	}
	if _, body := c.Get("/p/"); !strings.Contains(body, "Anonymous "+b.AnonNumber) {
		t.Fatal("the study list does not say Anonymous and the number")
	}
}

// Without images the patient is told to come back later.
func TestNotAvailableYet(t *testing.T) {
	f := newFixture(t)
	if _, err := f.srv.DB.ExecContext(t.Context(), `UPDATE studies SET num_instances = 0`); err != nil {
		t.Fatal(err)
	}
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	c := signedIn(t, f.srv, n, birth)
	doc := c.GetDoc("/p/", http.StatusOK)
	if !strings.Contains(doc.Find("[data-testid=not-ready]").Text(), "not available yet") {
		t.Fatal("no 'not available yet' message")
	}
}

// Patient pages need a session; sign-out destroys it server-side.
func TestSignOut(t *testing.T) {
	f := newFixture(t)
	_, n := f.srv.MustBucket(t, f.staff, f.studies, testserver.BucketSpec{})
	c := signedIn(t, f.srv, n, birth)
	c.GetDoc("/p/", http.StatusOK)
	res, _ := c.PostForm("/p/signout", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out answered %d", res.StatusCode)
	}
	if res, _ := c.Get("/p/"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("after sign-out /p/ answered %d", res.StatusCode)
	}
	anon := f.srv.Client(t)
	if res, _ := anon.Get("/p/studies/" + strconv.FormatInt(f.studies[0].ID, 10)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("anonymous study request answered %d", res.StatusCode)
	}
}
