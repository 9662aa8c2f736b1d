package admin_test

import (
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Parallel logo uploads: each one is stored or told the server is busy
// (503, translated, next to the field), never a 5xx of another kind, and no
// more than departments.LogoWorkers logos are ever decoded at once. Before,
// every upload decoded and re-encoded at once: 100 parallel uploads took
// 2.1 GB and stalled /readyz. A header claiming 20000 x 20000 pixels is
// refused from the header with the pixel error.
//
// Not parallel: the logo turns are process-wide, and the peak is read after.
func TestParallelLogoUploadsAreBounded(t *testing.T) {
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	c.GetDoc("/staff/settings", http.StatusOK)

	huge := testPNG(t, 1, 1)[:33] // signature and IHDR, no pixels
	binary.BigEndian.PutUint32(huge[16:20], 20000)
	binary.BigEndian.PutUint32(huge[20:24], 20000)
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29]))
	res, body := logoUpload(t, c, srv.URL, "huge.png", huge)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("20000 x 20000 header: status %d", res.StatusCode)
	}
	if msg := strings.TrimSpace(testserver.Doc(t, body).Find(`[data-field="logo"]`).Text()); msg != i18n.T("en", "settings.error.logo.pixels", "Max", 4000) {
		t.Fatalf("20000 x 20000 header: %q", msg)
	}

	logo := testPNG(t, 900, 600)
	n := 24
	if raceDetector {
		n = 10
	}
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cc := *c // one browser, one tab per upload: Do notes the page's CSRF token
			res, body := logoUpload(t, &cc, srv.URL, "logo.png", logo)
			statuses[i], bodies[i] = res.StatusCode, body
		}(i)
	}
	wg.Wait()
	stored := 0
	for i, s := range statuses {
		switch s {
		case http.StatusSeeOther:
			stored++
		case http.StatusServiceUnavailable:
			msg := strings.TrimSpace(testserver.Doc(t, bodies[i]).Find(`[data-field="logo"]`).Text())
			if msg != i18n.T("en", "settings.error.logo.busy") {
				t.Fatalf("upload %d: 503 saying %q", i, msg)
			}
		default:
			t.Fatalf("upload %d: status %d, want 303 or a busy 503", i, s)
		}
	}
	if stored == 0 {
		t.Fatalf("statuses %v: no upload was stored", statuses)
	}
	if peak := departments.LogoPeak(); peak > departments.LogoWorkers {
		t.Fatalf("%d logos were decoded at once, want at most %d", peak, departments.LogoWorkers)
	}
}
