package dicomweb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/radpass/radpass/shared/config"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testbrowser"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// ohifDist holds the built OHIF viewer: the dist folder of the @ohif/app
// npm package, pinned with its integrity in scripts/deps.sh (make test
// unpacks it into bin/).
var ohifDist = filepath.Join("..", "..", "bin", "ohif-3.12.10")

// ohifConfig is the app-config.js the test serves: the dicomwebproxy data
// source a deployment that offers "Open in OHIF" enables (docs/dicomweb.md),
// with one web worker and no investigational-use banner over the viewport.
const ohifConfig = `window.config = {
  routerBasename: '/',
  extensions: [],
  modes: [],
  showStudyList: false,
  maxNumberOfWebWorkers: 1,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: false,
  showLoadingIndicator: true,
  investigationalUseDialog: { option: 'never' },
  defaultDataSourceName: 'dicomwebproxy',
  dataSources: [
    {
      namespace: '@ohif/extension-default.dataSourcesModule.dicomwebproxy',
      sourceName: 'dicomwebproxy',
      configuration: { friendlyName: 'RadPass viewer link', name: 'dicomwebproxy' },
    },
  ],
};
`

// ohifSite serves the built OHIF viewer as a static site (a path without
// a file extension is a route of the single page app: its index.html).
func ohifSite(t testing.TB) *httptest.Server {
	t.Helper()
	if _, err := os.Stat(filepath.Join(ohifDist, "index.html")); err != nil {
		t.Fatalf("the OHIF viewer is not in bin/ (scripts/deps.sh test unpacks it): %v", err)
	}
	files := http.FileServer(http.Dir(ohifDist))
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/app-config.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write([]byte(ohifConfig))
			return
		case !strings.Contains(filepath.Base(r.URL.Path), "."):
			r.URL.Path = "/"
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(site.Close)
	return site
}

// ohifViewport finds the first Cornerstone viewport showing an image and
// answers where that image's pixels are on the page: the page position of
// pixel (0,0) and the steps of one column and one row (OHIF puts
// Cornerstone on window for its own end-to-end tests).
const ohifViewport = `(() => {
  const cs = window.cornerstone;
  if (!cs || !cs.getRenderingEngines) return '';
  for (const engine of cs.getRenderingEngines()) {
    for (const vp of engine.getViewports()) {
      const id = vp.getCurrentImageId && vp.getCurrentImageId();
      const data = vp.getImageData && vp.getImageData();
      if (!id || !data || !data.imageData || !vp.canvas) continue;
      const r = vp.canvas.getBoundingClientRect();
      const at = ijk => { const c = vp.worldToCanvas(data.imageData.indexToWorld(ijk)); return [r.x + c[0], r.y + c[1]]; };
      const [cols, rows] = data.dimensions;
      const o = at([0, 0, 0]), i = at([cols - 1, 0, 0]), j = at([0, rows - 1, 0]);
      return JSON.stringify({id, cols, rows, o, col: [(i[0] - o[0]) / (cols - 1), (i[1] - o[1]) / (cols - 1)],
        row: [(j[0] - o[0]) / (rows - 1), (j[1] - o[1]) / (rows - 1)]});
    }
  }
  return '';
})()`

// pageErrors runs before the page's own scripts and keeps its errors in
// window.__radpassErrors.
const pageErrors = `(() => {
  const errs = window.__radpassErrors = [];
  const text = x => { try { return x && x.stack ? String(x.stack) : typeof x === 'object' ? JSON.stringify(x) : String(x); } catch (e) { return String(x); } };
  const keep = s => { if (errs.length < 200) errs.push(s.slice(0, 600)); };
  addEventListener('error', e => keep('exception: ' + e.message + ' ' + text(e.error)));
  addEventListener('unhandledrejection', e => keep('rejection: ' + text(e.reason)));
  for (const k of ['error', 'warn']) {
    const orig = console[k];
    console[k] = function (...args) { keep(k + ': ' + args.map(text).join(' ')); return orig.apply(this, args); };
  }
})()`

// ohifPlacement is ohifViewport's answer.
type ohifPlacement struct {
	ID   string     `json:"id"`
	Cols int        `json:"cols"`
	Rows int        `json:"rows"`
	O    [2]float64 `json:"o"`
	Col  [2]float64 `json:"col"`
	Row  [2]float64 `json:"row"`
}

// The patient's "Open in OHIF" opens the study in the OHIF viewer (the
// @ohif/app package's built files, served by the test) through a fresh
// viewer link in headless Chromium, and the viewport paints the first image
// of the study as dcmtk renders it (same window): the link's URL, its
// ohif.json, QIDO-RS, metadata and WADO-RS frames all work for a real
// viewer.
func TestOpenInOHIFPaintsTheStudySystem(t *testing.T) {
	testtool.Need(t, "dcm2pnm")
	site := ohifSite(t)
	f := newLinkFixture(t, func(c *config.Config) {
		c.DICOMweb.Origins = append(c.DICOMweb.Origins, site.URL)
		c.DICOMweb.OHIFURL = site.URL + "/"
	})
	var studyID int64
	if err := f.srv.DB.NewRaw(`SELECT id FROM studies WHERE study_uid = ?`, linkStudyUID).Scan(t.Context(), &studyID); err != nil {
		t.Fatal(err)
	}
	doc := f.plain.GetDoc("/p/studies/"+strconv.FormatInt(studyID, 10), http.StatusOK)
	action, ok := doc.Find(`form:has([data-testid="open-ohif"])`).Attr("action")
	if !ok {
		t.Fatal("no Open in OHIF on the study page")
	}
	res, body := f.plain.PostForm(action, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("Open in OHIF: %d\n%s", res.StatusCode, body)
	}
	href, ok := testserver.Doc(t, body).Find(`[data-testid="ohif-link"]`).Attr("href")
	if !ok || !strings.HasPrefix(href, site.URL+"/viewer/dicomwebproxy?") {
		t.Fatalf("OHIF link %q", href)
	}
	ref := dcm2pnmRender(t, "3.dcm") // the study's first image: series 1, instance 1

	p := testbrowser.Page{TB: t, Ctx: testbrowser.New(t, 280*time.Second)}
	// A dialog would block every evaluation: accept it. The page itself
	// records its errors (console.error and .warn, uncaught exceptions and
	// rejections) for the failure message: DevTools' console events reached
	// the test in some runs and not in others.
	_ = chromedp.Listen(p.Ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() {
				_ = chromedp.Do(p.Ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
					_, err := cdp.Call(ctx, t, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
					return err
				}))
			}()
		}
	})
	p.Do("record the page's errors", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageErrors})
		return err
	}))
	opened := time.Now()
	p.Do("open OHIF", chromedp.EmulateViewport(1200, 800), chromedp.Navigate(href))
	// OHIF boots (about 20 MB of script), queries the link, loads the
	// metadata and the first frames; then the viewport shows the image.
	deadline := time.Now().Add(240 * time.Second)
	var last string
	for {
		if js := p.Eval(ohifViewport); js != "" {
			var at ohifPlacement
			if err := json.Unmarshal([]byte(js), &at); err != nil {
				t.Fatalf("viewport %s: %v", js, err)
			}
			r, err := matchScreenshot(t, p, ref, at)
			if err != nil {
				t.Fatalf("OHIF viewport %s: %v", js, err)
			}
			last = fmt.Sprintf("%s: correlation %.3f with dcm2pnm's render", at.ID, r)
			if strings.Contains(at.ID, "/instances/2.25.47110000000000000000000000000010/frames/1") && r >= 0.9 {
				t.Logf("%s, %.1f s after opening OHIF", last, time.Since(opened).Seconds())
				return
			}
		}
		if time.Now().After(deadline) {
			shot, _ := chromedp.Run(p.Ctx, chromedp.CaptureScreenshot())
			out := filepath.Join(os.TempDir(), "radpass-ohif-failed.png")
			_ = os.WriteFile(out, shot, 0o644)
			t.Fatalf("OHIF painted not the study's first image (%s); screenshot %s; page text: %.300s\nconsole:\n%.6000s",
				last, out, p.Eval(`document.body.innerText`), p.Eval(`(window.__radpassErrors || []).join("\n")`))
		}
		time.Sleep(time.Second)
	}
}

// matchScreenshot compares what the page shows where at places the
// image's pixels with ref (the image as dcm2pnm renders it): the Pearson
// correlation of the grey levels at every second pixel. A blank, shifted,
// flipped or differently windowed image scores far below 0.9.
func matchScreenshot(t testing.TB, p testbrowser.Page, ref *image.Gray, at ohifPlacement) (float64, error) {
	t.Helper()
	if at.Cols != ref.Rect.Dx() || at.Rows != ref.Rect.Dy() {
		return 0, fmt.Errorf("the viewport's image is %dx%d, dcm2pnm's %v", at.Cols, at.Rows, ref.Rect.Size())
	}
	shot, err := chromedp.Run(p.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return 0, err
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		return 0, err
	}
	var xs, ys []float64
	for j := 1; j < ref.Rect.Dy()-1; j += 2 {
		for i := 1; i < ref.Rect.Dx()-1; i += 2 {
			x := at.O[0] + float64(i)*at.Col[0] + float64(j)*at.Row[0]
			y := at.O[1] + float64(i)*at.Col[1] + float64(j)*at.Row[1]
			pt := image.Pt(int(math.Round(x)), int(math.Round(y)))
			if !pt.In(img.Bounds()) {
				return 0, fmt.Errorf("pixel (%d,%d) is off the page at %v", i, j, pt)
			}
			r, g, b, _ := img.At(pt.X, pt.Y).RGBA()
			xs = append(xs, float64(r+g+b)/3/257)
			ys = append(ys, float64(ref.GrayAt(i, j).Y))
		}
	}
	return pearson(xs, ys), nil
}

func pearson(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// dcm2pnmRender renders a sample file's first frame with dcmtk's dcm2pnm in
// the file's first VOI window (as a viewer opens it), as 8-bit grey.
func dcm2pnmRender(t testing.TB, sample string) *image.Gray {
	t.Helper()
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "ref.pgm")
	if b, err := exec.Command("dcm2pnm", "+Wi", "1", filepath.Join(dir, sample), out).CombinedOutput(); err != nil {
		t.Fatalf("dcm2pnm: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// The header: P5, width, height, maximum, each after white space,
	// then one white-space byte and the pixels.
	var head []int
	i := 2
	if !bytes.HasPrefix(b, []byte("P5")) {
		t.Fatalf("dcm2pnm wrote no binary PGM: %.20q", b)
	}
	for len(head) < 3 && i < len(b) {
		switch c := b[i]; {
		case c == '#':
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c >= '0' && c <= '9':
			n := 0
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				n = n*10 + int(b[i]-'0')
				i++
			}
			head = append(head, n)
			continue
		}
		i++
	}
	if len(head) != 3 || head[2] != 255 || len(b) != i+1+head[0]*head[1] {
		t.Fatalf("dcm2pnm wrote no 8-bit PGM (header %v, %d bytes)", head, len(b))
	}
	w, h := head[0], head[1]
	img := image.NewGray(image.Rect(0, 0, w, h))
	copy(img.Pix, b[i+1:])
	return img
}
