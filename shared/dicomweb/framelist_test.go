package dicomweb_test

import (
	"net/http"
	"strings"
	"testing"
)

// A frame list names each frame at most once: the answer is then never
// larger than the instance's own pixel data. Before, "1,1,1,…" (a few
// hundred bytes of URL) made the server build and send the frame once per
// mention, all in memory: 100 mentions of a 512 KiB frame were 52 MB.
func TestViewerLinkFrameListNamesEachFrameOnce(t *testing.T) {
	f := newLinkFixture(t)
	base := createLink(t, f.plain)
	ct := qidoJSON(t, base+"/studies/"+linkStudyUID+"/series?Modality=CT", http.StatusOK)
	series := firstValue(t, ct[0], "0020000E")
	insts := qidoJSON(t, base+"/studies/"+linkStudyUID+"/series/"+series+"/instances", http.StatusOK)
	inst := base + "/studies/" + linkStudyUID + "/series/" + series + "/instances/" + firstValue(t, insts[0], "00080018")
	accept := `multipart/related; type="application/octet-stream"; transfer-syntax=*`

	res, body := dw(t, inst+"/frames/2,1", "Accept", accept)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("frames 2,1: %d %s", res.StatusCode, body)
	}
	if _, fr := parts(t, res, body); len(fr) != 2 {
		t.Fatalf("frames 2,1: %d parts, want 2", len(fr))
	}
	for _, list := range []string{"1,1", "1,2,1", strings.Repeat("2,", 100) + "2"} {
		res, body := dw(t, inst+"/frames/"+list, "Accept", accept)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("frames %.20s…: %d (%d bytes), want 400", list, res.StatusCode, len(body))
		}
	}
}
