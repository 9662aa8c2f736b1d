package patient_test

import (
	"net/http"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

func TestHomeSpeaksThePatientsLanguage(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	tests := []struct{ accept, want string }{
		{"en", "I am a patient (or caregiver)"},
		{"nl-BE,nl;q=0.9", "Ik ben patiënt (of mantelzorger)"},
		{"fr", "Je suis patient (ou aidant)"},
		{"de-DE", "Ich bin Patient (oder Angehöriger)"},
	}
	for _, tt := range tests {
		c := srv.Client(t)
		res, body := c.Get("/", "Accept-Language", tt.accept)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET / (%s): status %d", tt.accept, res.StatusCode)
		}
		doc := testserver.Doc(t, body)
		if got := doc.Find("h1").Text(); got != tt.want {
			t.Errorf("Accept-Language %s: heading %q, want %q", tt.accept, got, tt.want)
		}
		if doc.Find(`link[href="/static/app.css"]`).Length() != 1 {
			t.Errorf("Accept-Language %s: the landing page is not inside the patient layout", tt.accept)
		}
	}
}
