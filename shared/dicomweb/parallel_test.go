package dicomweb_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// vmRSS is this process's resident set size in bytes (Linux).
func vmRSS(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// settled is the heap in use and the RSS after a full collection returned
// to the OS.
func settled(t *testing.T) (heap, rss uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, vmRSS(t)
}

// 100 requests at once on the link endpoints, two rounds: patients
// creating links (past the 20-link cap, so some are refused), revoking the
// same links twice over, and a viewer's QIDO, metadata, frames and WADO of
// the whole study through an anonymized access's link (de-identified on the
// fly). No answer is a 500 or otherwise unexpected, the cap holds, and the
// server's heap and RSS do not grow from the first round to the second.
func TestViewerLinkEndpointsUnderParallelLoad(t *testing.T) {
	f := newLinkFixture(t)
	ctx := context.Background()
	viewer := createLink(t, f.anon)
	uid := firstValue(t, qidoJSON(t, viewer+"/studies", http.StatusOK)[0], "0020000D")
	series := qidoJSON(t, viewer+"/studies/"+uid+"/series?Modality=CT", http.StatusOK)
	ctSeries := firstValue(t, series[0], "0020000E")
	sop := firstValue(t, qidoJSON(t, viewer+"/studies/"+uid+"/series/"+ctSeries+"/instances", http.StatusOK)[0], "00080018")
	inst := viewer + "/studies/" + uid + "/series/" + ctSeries + "/instances/" + sop

	// Two signed-in patients (browsers with several tabs): one creating, one
	// revoking, each sending its session's CSRF token from 20 goroutines.
	creator, revoker := signInPlain(t, f), signInPlain(t, f)
	revoker.Get("/p/")
	var heaps, rsss []uint64
	for round := range 2 {
		// Fifteen live links; ten to revoke, each by two goroutines at once:
		// of the 20 creates at most 15 fit under the cap.
		if _, err := f.srv.DB.NewRaw(`UPDATE viewer_links SET revoked_at = now() WHERE bucket_id = ?`, f.plainB.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for range 15 {
			createLink(t, creator)
		}
		var ids []int64
		if err := f.srv.DB.NewRaw(`SELECT id FROM viewer_links WHERE bucket_id = ? AND revoked_at IS NULL ORDER BY id LIMIT 10`, f.plainB.ID).Scan(ctx, &ids); err != nil || len(ids) != 10 {
			t.Fatalf("links to revoke: %v %v", ids, err)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = map[string]int{}
			bad  []string
		)
		note := func(kind string, status int, ok ...int) {
			mu.Lock()
			defer mu.Unlock()
			seen[fmt.Sprintf("%s %d", kind, status)]++
			for _, s := range ok {
				if s == status {
					return
				}
			}
			bad = append(bad, fmt.Sprintf("%s answered %d", kind, status))
		}
		start := make(chan struct{})
		for i := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				switch {
				case i < 20: // create: 200 with the link, or the cap's error page
					status, body := postShared(creator, f.srv.URL, "/p/links")
					if status == http.StatusOK && !strings.Contains(body, "/dicomweb/l/rpv_") {
						status = -1
					}
					note("create", status, http.StatusOK, http.StatusUnprocessableEntity, http.StatusBadRequest)
				case i < 40: // revoke: one of two wins, the other finds it gone
					status, _ := postShared(revoker, f.srv.URL, fmt.Sprintf("/p/links/%d/revoke", ids[(i-20)/2]))
					note("revoke", status, http.StatusSeeOther, http.StatusNotFound)
				case i < 60:
					res, _ := dwNoFatal(viewer+"/studies/"+uid+"/series", "Accept", "application/dicom+json")
					note("qido", res, http.StatusOK)
				case i < 70:
					res, _ := dwNoFatal(inst+"/metadata", "Accept", "application/dicom+json")
					note("metadata", res, http.StatusOK)
				case i < 80:
					res, _ := dwNoFatal(inst+"/frames/1,2", "Accept", `multipart/related; type="application/octet-stream"; transfer-syntax=*`)
					note("frames", res, http.StatusOK)
				default:
					res, n := dwNoFatal(viewer+"/studies/"+uid, "Accept", acceptDICOM)
					if res == http.StatusOK && n < 1<<20 {
						res = -1
					}
					note("wado", res, http.StatusOK)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(bad) > 0 {
			t.Fatalf("round %d: %v (all: %v)", round+1, bad, seen)
		}
		if seen["revoke 303"] != 10 || seen["create 200"] < 5 || seen["create 200"] > 15 {
			t.Fatalf("round %d: %v", round+1, seen)
		}
		var live int
		if err := f.srv.DB.NewRaw(`SELECT count(*) FROM viewer_links WHERE bucket_id = ? AND revoked_at IS NULL`, f.plainB.ID).Scan(ctx, &live); err != nil || live > 20 {
			t.Fatalf("round %d: %d live links, the cap is 20 (%v)", round+1, live, err)
		}
		http.DefaultClient.CloseIdleConnections()
		h, r := settled(t)
		heaps, rsss = append(heaps, h), append(rsss, r)
		t.Logf("round %d: %v; heap %d MiB, RSS %d MiB", round+1, seen, h>>20, r>>20)
	}
	// The first round also warms caches and pools, hence the margin.
	if heaps[1] > heaps[0]+16<<20 || rsss[1] > rsss[0]+64<<20 {
		t.Fatalf("heap %v, RSS %v over the rounds: memory piles up", heaps, rsss)
	}
}

// signInPlain signs a new client in to the fixture's plain access.
func signInPlain(t *testing.T, f *linkFixture) *testserver.Client {
	t.Helper()
	return signIn(t, f.srv, f.plainNumber)
}

// postShared posts an empty form as c's session (its cookies and CSRF
// token) from any goroutine; the status (0 when the request failed) and
// the body.
func postShared(c *testserver.Client, base, path string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(url.Values{"_csrf": {c.CSRF}}.Encode()))
	if err != nil {
		return 0, ""
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// dwNoFatal is dw for goroutines: the status (0 when the request failed)
// and the body's size.
func dwNoFatal(u string, header ...string) (int, int) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, 0
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	var n int
	buf := make([]byte, 32<<10)
	for {
		k, err := res.Body.Read(buf)
		n += k
		if err != nil {
			break
		}
	}
	return res.StatusCode, n
}
