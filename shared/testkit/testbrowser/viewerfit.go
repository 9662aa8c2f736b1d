package testbrowser

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/chromedp/chromedp"
)

// Viewport is a browser window size to test the viewer at; Mobile emulates
// a phone or tablet (touch, device scale 2).
type Viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// ViewerViewports are the sizes the viewer must fit: phones, a tablet, desktops.
var ViewerViewports = []Viewport{
	{"phone 360×640", 360, 640, true},
	{"phone 360×740", 360, 740, true},
	{"phone 390×844", 390, 844, true},
	{"tablet 768×1024", 768, 1024, true},
	{"desktop 1280×720", 1280, 720, false},
	{"desktop 1920×1080", 1920, 1080, false},
}

// Emulate sets the tab to v (a landscape phone is emulated as turned) and
// waits for the page, if it is made for phones, to take the new size.
func (p Page) Emulate(v Viewport) {
	p.TB.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if v.Mobile {
		opts = []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)}
		if v.Width > v.Height {
			opts = append(opts, chromedp.EmulateLandscape)
		} else {
			opts = append(opts, chromedp.EmulatePortrait)
		}
	}
	p.Do("viewport "+v.Name, chromedp.EmulateViewport(v.Width, v.Height, opts...))
	want := fmt.Sprintf("%dx%d", v.Width, v.Height)
	const got = `!document.querySelector('meta[name=viewport]') ? 'any' : innerWidth + 'x' + innerHeight`
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		g := p.Eval(got)
		if g == "any" || g == want {
			return
		}
		if time.Now().After(deadline) {
			p.TB.Fatalf("viewport %s: the page is %s", v.Name, g)
		}
	}
}

// Fit is where the viewer's image is, measured in the page.
type Fit struct {
	ViewW, ViewH float64 // the viewport
	HeaderBottom float64 // the page header's bottom edge
	Box          Rect    // the img element
	Painted      Rect    // the picture inside it (object-fit: contain)
	BestW, BestH float64 // the largest box of the picture's aspect ratio under the header
	ObjectFit    string
	ScrollX      float64
	ScrollY      float64
	NaturalW     float64
	NaturalH     float64
}

// Rect is a bounding box in CSS pixels.
type Rect struct{ X, Y, W, H float64 }

// Linear is the painted picture's width as a fraction of the best fit's;
// Area is the same for the areas (Linear squared, the two share an aspect
// ratio).
func (f Fit) Linear() float64 { return f.Painted.W / f.BestW }
func (f Fit) Area() float64   { return f.Painted.W * f.Painted.H / (f.BestW * f.BestH) }

// Inside says whether the img element's box lies in the viewport (half a
// pixel of rounding allowed).
func (f Fit) Inside() bool {
	const e = 0.5
	return f.Box.X >= -e && f.Box.Y >= -e && f.Box.X+f.Box.W <= f.ViewW+e && f.Box.Y+f.Box.H <= f.ViewH+e
}

func (f Fit) String() string {
	return fmt.Sprintf("viewport %.0f×%.0f, header to %.0f, img box %.0f,%.0f %.0f×%.0f, picture %.0f×%.0f of best %.0f×%.0f: %.1f%% (area %.1f%%)",
		f.ViewW, f.ViewH, f.HeaderBottom, f.Box.X, f.Box.Y, f.Box.W, f.Box.H, f.Painted.W, f.Painted.H, f.BestW, f.BestH, 100*f.Linear(), 100*f.Area())
}

// measureFit computes Fit for the loaded image [data-testid=image] under
// header.topbar.
const measureFit = `(function () {
  var img = document.querySelector('[data-testid="image"]');
  var r = img.getBoundingClientRect();
  var hb = document.querySelector('header.topbar').getBoundingClientRect().bottom;
  var W = document.documentElement.clientWidth, H = window.innerHeight;
  var nw = img.naturalWidth, nh = img.naturalHeight;
  var s = Math.min(r.width / nw, r.height / nh), pw = nw * s, ph = nh * s;
  var b = Math.min(W / nw, (H - hb) / nh);
  return JSON.stringify({ViewW: W, ViewH: H, HeaderBottom: hb,
    Box: {X: r.left, Y: r.top, W: r.width, H: r.height},
    Painted: {X: r.left + (r.width - pw) / 2, Y: r.top + (r.height - ph) / 2, W: pw, H: ph},
    BestW: nw * b, BestH: nh * b, ObjectFit: getComputedStyle(img).objectFit,
    ScrollX: window.scrollX, ScrollY: window.scrollY, NaturalW: nw, NaturalH: nh});
})()`

// ViewerFit waits for the viewer's image to be painted and laid out (a
// loaded image gets its box when the viewer's layout has run: on a busy
// machine that can be a moment after load), then measures it. An image
// that never gets a box fails the wait.
func (p Page) ViewerFit() Fit {
	p.TB.Helper()
	p.WaitTrue("image painted", `(function(){var i=document.querySelector('[data-testid="image"]');if(!i||!i.complete||i.naturalWidth===0)return false;var r=i.getBoundingClientRect();return r.width > 0 && r.height > 0})()`)
	var f Fit
	if err := json.Unmarshal([]byte(p.Eval(measureFit)), &f); err != nil {
		p.TB.Fatalf("viewer fit: %v", err)
	}
	return f
}

// CheckFit fails the test unless the image is fitted (contain), wholly in
// the viewport without scrolling, and at least 90% of the best fit.
func (p Page) CheckFit(state string, f Fit) {
	p.TB.Helper()
	switch {
	case f.ObjectFit != "contain":
		p.TB.Errorf("%s: object-fit %q: %s", state, f.ObjectFit, f)
	case f.ScrollX != 0 || f.ScrollY != 0:
		p.TB.Errorf("%s: the page is scrolled (%.0f,%.0f): %s", state, f.ScrollX, f.ScrollY, f)
	case !f.Inside():
		p.TB.Errorf("%s: image not inside the viewport: %s", state, f)
	case f.Linear() < 0.9:
		p.TB.Errorf("%s: image below 90%% of the best fit: %s", state, f)
	default:
		p.TB.Logf("%s: %s", state, f)
	}
}

// Screenshot saves the viewport as a PNG at path.
func (p Page) Screenshot(path string) {
	p.TB.Helper()
	png, err := chromedp.Run(p.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.TB.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.TB.Fatal(err)
	}
}

// Number evaluates a JavaScript expression that yields a number.
func (p Page) Number(expr string) float64 {
	p.TB.Helper()
	v, err := strconv.ParseFloat(p.Eval("String("+expr+")"), 64)
	if err != nil {
		p.TB.Fatalf("%s is not a number: %v", expr, err)
	}
	return v
}
