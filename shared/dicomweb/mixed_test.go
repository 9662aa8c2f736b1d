package dicomweb_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// TestStowMixedKinds: one STOW-RS push with every transfer syntax, bare
// data sets and SR / RT structure set / waveform objects stores them all.
func TestStowMixedKinds(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20)
	dir := t.TempDir()
	names := dicomtest.MixedFolder(t, dir, dicomtest.Ident{PatientID: "MIX2", PatientName: "Mixed^Push",
		StudyUID: "1.2.826.0.1.80", SeriesUID: "1.2.826.0.1.80.1"})
	var parts [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
	ctype, body := multipartRelated(parts...)
	res, out := post(t, e.url+"/dicomweb/studies", e.token, ctype, body)
	if res.StatusCode != http.StatusOK || len(seq(out, "00081199")) != len(names) || len(seq(out, "00081198")) != 0 {
		t.Fatalf("status %d: %v", res.StatusCode, out)
	}
	if n := count(t, e.db, "instances"); n != len(names) {
		t.Fatalf("%d instances stored, want %d", n, len(names))
	}
}
