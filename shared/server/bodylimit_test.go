package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/server"
	"github.com/radpass/radpass/shared/testserver"
)

// Only the machine endpoints take bodies up to MachineBodyLimit; a form
// post larger than FormBodyLimit is refused before it is read whole (it
// used to be read up to 64 MB on every page, sign-in included).
func TestBodyLimitPerPath(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	big := bytes.Repeat([]byte("1"), server.FormBodyLimit+1)
	tests := []struct {
		path, contentType string
		tooLarge          bool
	}{
		{"/p/signin", "application/x-www-form-urlencoded", true},
		{"/p/code", "application/x-www-form-urlencoded", true},
		{"/staff/signin", "application/x-www-form-urlencoded", true},
		{"/dicomweb/studies", `multipart/related; type="application/dicom"; boundary=x`, false},
	}
	for _, tt := range tests {
		body := append([]byte("ref=&dob_day="), big...)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", tt.contentType)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if tt.tooLarge && strings.Contains(err.Error(), "connection reset") {
				continue // refused while the body was still being sent
			}
			t.Fatalf("%s: %v", tt.path, err)
		}
		res.Body.Close()
		if got := res.StatusCode == http.StatusRequestEntityTooLarge; got != tt.tooLarge {
			t.Errorf("%s: status %d with a %d-byte body", tt.path, res.StatusCode, len(body))
		}
	}
}
