package dicomweb_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
)

// dwClientBuild is the dicomweb-client npm package's browser build
// (package.json pins it; npm ci installs it).
var dwClientBuild = filepath.Join("..", "..", "node_modules", "dicomweb-client", "build", "dicomweb-client.js")

// viewerSite serves a page of another origin that runs script (from
// testdata) with the dicomweb-client package loaded, as a web viewer would.
func viewerSite(t testing.TB, script string) *httptest.Server {
	t.Helper()
	lib, err := os.ReadFile(dwClientBuild)
	if err != nil {
		t.Fatalf("dicomweb-client is not installed (npm ci): %v", err)
	}
	js, err := os.ReadFile(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/dicomweb-client.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(lib)
	})
	mux.HandleFunc("/run.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.Write(js)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>viewer</title><pre id="result"></pre>` +
			`<script src="/dicomweb-client.js"></script><script src="/run.js"></script>`))
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	return site
}

// The dicomweb-client npm package (the DICOMweb library of many web
// viewers) runs QIDO-RS and WADO-RS through a viewer link from a page of
// a configured origin in headless Chromium: studies, series, instances,
// metadata, a whole instance, a frame and a rendered image, over CORS.
func TestBrowserDICOMwebClientThroughViewerLink(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Chromium and the npm packages; skipped under -short (make check)")
	}
	site := viewerSite(t, "dwclient.js")
	f := newLinkFixture(t, func(c *config.Config) { c.DICOMweb.Origins = append(c.DICOMweb.Origins, site.URL) })
	base := createLink(t, f.plain)
	p := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 60*time.Second)}
	p.Do("open the viewer page", chromedp.Navigate(site.URL+"/?"+url.Values{"base": {base}, "pid": {"PID4242"}}.Encode()))
	p.WaitTrue("dicomweb-client's queries", `document.querySelector('#result[data-done]')`)
	out := p.Eval(`document.getElementById('result').textContent`)
	var got struct {
		Studies       []string
		Series        int
		Instances     int
		SOP           string
		Metadata      int
		InstanceBytes int
		InstanceDICM  string
		Frames        int
		FrameBytes    int
		RenderedJPEG  bool
		Error         string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Error != "" {
		t.Fatalf("dicomweb-client failed: %s (%s)", got.Error, out)
	}
	if len(got.Studies) != 1 || got.Studies[0] != linkStudyUID || got.Series != 3 || got.Instances != 1 || got.Metadata != 4 ||
		got.InstanceBytes != len(f.files[got.SOP]) || got.InstanceDICM != "DICM" || got.Frames != 1 || got.FrameBytes != 512*512*2 || !got.RenderedJPEG {
		t.Fatalf("dicomweb-client got %s", out)
	}
}
