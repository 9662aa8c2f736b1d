package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// A compressed body is refused before anything reads it: Fiber would inflate
// it without a limit. Machines get JSON answers, never the staff HTML page.
func TestCompressedBodiesAreRefusedWithJSONForMachines(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(bytes.Repeat([]byte{0}, 1<<20))
	zw.Close()

	tests := []struct {
		path, wantType string
	}{
		{"/dicomweb/studies", "application/json"},
		{"/api/v1/studies/1.2.3/report", "application/json"},
		{"/staff/signin", "text/html"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, bytes.NewReader(gz.Bytes()))
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Content-Type", `multipart/related; type="application/dicom"; boundary=x`)
		req.Header.Set("Authorization", "Bearer rpt_nothing")
		res, body := srv.Client(t).Do(req)
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s: status %d, want 415", tt.path, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
			t.Errorf("%s: Content-Type %q, want %s", tt.path, ct, tt.wantType)
		}
		if tt.wantType == "application/json" {
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil || m["error"] == "" {
				t.Errorf("%s: body is not a JSON error: %q", tt.path, body)
			}
		}
	}
}
