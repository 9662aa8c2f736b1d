package dicomweb_test

import (
	"context"
	"net/http"
	"os"
	"testing"
)

// A STOW-RS push of a file stored all as UN (pydicom's rtdose_rle.dcm) is
// stored with its SOP class and modality read with the dictionary's VRs.
func TestStowUNValues(t *testing.T) {
	t.Parallel()
	e := start(t, 64<<20)
	b, err := os.ReadFile("/usr/lib/python3/dist-packages/pydicom/data/test_files/rtdose_rle.dcm")
	if err != nil {
		t.Fatalf("pydicom's test files (Debian python3-pydicom, scripts/deps.sh test): %v", err)
	}
	ctype, body := multipartRelated(b)
	res, out := post(t, e.url+"/dicomweb/studies", e.token, ctype, body)
	if res.StatusCode != http.StatusOK || len(seq(out, "00081199")) != 1 {
		t.Fatalf("status %d: %v", res.StatusCode, out)
	}
	var got struct {
		Class    string `bun:"sop_class_uid"`
		Modality string `bun:"modality"`
	}
	if err := e.db.NewRaw(`SELECT i.sop_class_uid, se.modality FROM instances i JOIN series se ON se.id = i.series_id`).Scan(context.Background(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Class != "1.2.840.10008.5.1.4.1.1.481.2" || got.Modality != "RTDOSE" {
		t.Errorf("stored SOP class %q, modality %q", got.Class, got.Modality)
	}
}
