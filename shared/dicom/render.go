package dicom

import (
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

var (
	// ErrNoPreview: the pixel data is stored in a transfer syntax (or layout)
	// this renderer cannot decode; the viewer shows a placeholder instead.
	ErrNoPreview = errors.New("no preview for this pixel data")
	// ErrFrame: the frame number is out of range.
	ErrFrame = errors.New("no such frame")
)

// Window is a VOI window (center/width in modality units, e.g. HU for CT).
type Window struct{ Center, Width float64 }

// Presets are the named windows staff can pick (CT values in HU).
var Presets = map[string]Window{
	"soft":  {40, 400},
	"lung":  {-600, 1500},
	"bone":  {400, 1800},
	"brain": {40, 80},
}

// PresetNames lists the presets in menu order.
var PresetNames = []string{"soft", "lung", "bone", "brain"}

// Options choose what Render produces.
type Options struct {
	Frame int
	// Window nil: the file's first window. Without one, CT (and a file
	// whose window leaves the frame almost all black or white) gets the
	// 0.5-99.5 percentile window of the frame, anything else the pixel
	// range: Smallest/Largest Image Pixel Value, else the frame's min/max
	// (dcmtk's min-max window).
	Window *Window
	Auto   bool // ignore the file's window, use the percentile window
	Size   int  // longest side in pixels; 0 keeps the original size
}

// ParseWindow reads a window parameter: "" (file default), "auto", a preset
// name or "center,width". ok is false for anything else.
func ParseWindow(s string) (w *Window, auto, ok bool) {
	switch s {
	case "", "default":
		return nil, false, true
	case "auto":
		return nil, true, true
	}
	if p, found := Presets[s]; found {
		return &p, false, true
	}
	c, wd, found := strings.Cut(s, ",")
	if !found {
		return nil, false, false
	}
	cf, err1 := strconv.ParseFloat(c, 64)
	wf, err2 := strconv.ParseFloat(wd, 64)
	if err1 != nil || err2 != nil || wf < 1 || math.IsNaN(cf) || math.IsInf(cf, 0) || wf > 1e7 || math.Abs(cf) > 1e7 {
		return nil, false, false
	}
	return &Window{cf, wf}, false, true
}

// storedDecoder decodes one raw sample: bits above BitsStored masked off, two's
// complement sign applied when PixelRepresentation is 1.
type storedDecoder struct {
	shift  uint
	mask   uint32
	sign   uint32
	signed bool
	bits   uint
}

func newStoredDecoder(m *Meta, alloc int) storedDecoder {
	bs := m.BitsStored
	if bs <= 0 || bs > alloc {
		bs = alloc
	}
	shift := m.HighBit + 1 - bs
	if shift < 0 || shift+bs > alloc {
		shift = 0
	}
	d := storedDecoder{shift: uint(shift), bits: uint(bs), signed: m.PixelRepresentation == 1}
	if bs >= 32 {
		d.mask = math.MaxUint32
	} else {
		d.mask = 1<<uint(bs) - 1
	}
	d.sign = 1 << uint(bs-1)
	return d
}

func (d storedDecoder) value(raw uint32) float64 {
	v := (raw >> d.shift) & d.mask
	if d.signed && v&d.sign != 0 {
		return float64(int64(v) - int64(1)<<d.bits)
	}
	return float64(v)
}

// voi maps a modality value through the linear VOI function of PS3.3 C.11.2.1.2.1.
type voi struct{ lo, hi, c, w float64 }

func newVOI(w Window) voi {
	if w.Width < 1 {
		w.Width = 1
	}
	return voi{lo: w.Center - 0.5 - (w.Width-1)/2, hi: w.Center - 0.5 + (w.Width-1)/2, c: w.Center, w: w.Width}
}

func (v voi) apply(x float64) uint8 {
	switch {
	case x <= v.lo:
		return 0
	case x > v.hi:
		return 255
	case v.w <= 1:
		return 255
	}
	y := ((x-(v.c-0.5))/(v.w-1) + 0.5) * 255
	if y < 0 {
		return 0
	}
	if y > 255 {
		return 255
	}
	return uint8(y + 0.5)
}

// grayPixels applies the modality LUT, the VOI window and MONOCHROME1
// inversion; rng is the file's Smallest/Largest Image Pixel Value or nil.
func grayPixels(m *Meta, raw any, n int, o Options, rng *[2]float64) ([]uint8, error) {
	slope, icpt := m.RescaleSlope, m.RescaleIntercept
	if slope == 0 {
		slope = 1
	}
	var alloc int
	var get func(i int) uint32
	switch r := raw.(type) {
	case []uint8:
		alloc, get = 8, func(i int) uint32 { return uint32(r[i]) }
		if len(r) < n {
			return nil, ErrNoPreview
		}
	case []uint16:
		alloc, get = 16, func(i int) uint32 { return uint32(r[i]) }
		if len(r) < n {
			return nil, ErrNoPreview
		}
	case []uint32:
		alloc, get = 32, func(i int) uint32 { return r[i] }
		if len(r) < n {
			return nil, ErrNoPreview
		}
	case []int:
		alloc, get = 32, func(i int) uint32 { return uint32(r[i]) }
		if len(r) < n {
			return nil, ErrNoPreview
		}
	default:
		return nil, ErrNoPreview
	}
	dec := newStoredDecoder(m, alloc)
	var hist []int
	if alloc <= 16 {
		hist = make([]int, 1<<alloc)
		switch r := raw.(type) {
		case []uint8:
			for _, x := range r[:n] {
				hist[x]++
			}
		case []uint16:
			for _, x := range r[:n] {
				hist[x]++
			}
		}
	}
	w := o.Window
	// stretch: the percentile window rather than the pixel range.
	stretch := o.Auto || m.Modality == "CT"
	if w == nil && !o.Auto {
		// The file's window, unless it leaves almost the whole frame black or
		// white (PET files often carry a window for another scale, and a
		// few hot pixels would make their pixel range as dark).
		if fw := fileWindow(m); fw != nil {
			if hist == nil || insideFraction(hist, dec, slope, icpt, newVOI(*fw), n) >= 0.01 {
				w = fw
			} else {
				stretch = true
			}
		}
	}
	if w == nil && hist != nil && stretch {
		w = percentileWindow(hist, dec, slope, icpt, n)
	}
	if w == nil { // the pixel range in modality units
		lo, hi := math.Inf(1), math.Inf(-1)
		switch {
		case rng != nil && !stretch:
			lo, hi = rng[0], rng[1]
		case hist != nil:
			for raw, c := range hist {
				if c > 0 {
					v := dec.value(uint32(raw))
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		default:
			for i := 0; i < n; i++ {
				v := dec.value(get(i))
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		a, b := lo*slope+icpt, hi*slope+icpt
		if a > b {
			a, b = b, a
		}
		w = &Window{Center: (a + b + 1) / 2, Width: b - a + 1}
	}
	v := newVOI(*w)
	invert := m.Photometric == "MONOCHROME1"
	out := make([]uint8, n)
	if alloc <= 16 {
		// One LUT over every possible raw sample: modality + VOI + inversion in a lookup.
		lut := make([]uint8, 1<<alloc)
		for i := range lut {
			y := v.apply(dec.value(uint32(i))*slope + icpt)
			if invert {
				y = 255 - y
			}
			lut[i] = y
		}
		switch r := raw.(type) {
		case []uint8:
			for i := 0; i < n; i++ {
				out[i] = lut[r[i]]
			}
		case []uint16:
			for i := 0; i < n; i++ {
				out[i] = lut[r[i]]
			}
		}
		return out, nil
	}
	for i := 0; i < n; i++ {
		y := v.apply(dec.value(get(i))*slope + icpt)
		if invert {
			y = 255 - y
		}
		out[i] = y
	}
	return out, nil
}

// insideFraction is the share of pixels the window maps strictly between black and white.
func insideFraction(hist []int, dec storedDecoder, slope, icpt float64, v voi, n int) float64 {
	in := 0
	for raw, c := range hist {
		if c == 0 {
			continue
		}
		if x := dec.value(uint32(raw))*slope + icpt; x > v.lo && x <= v.hi {
			in += c
		}
	}
	return float64(in) / float64(max(n, 1))
}

// percentileWindow spans the 0.5th to 99.5th percentile of the frame's
// modality values, so a few hot pixels do not darken everything else.
func percentileWindow(hist []int, dec storedDecoder, slope, icpt float64, n int) *Window {
	type bin struct {
		v float64
		c int
	}
	bins := make([]bin, 0, 1024)
	for raw, c := range hist {
		if c > 0 {
			bins = append(bins, bin{dec.value(uint32(raw))*slope + icpt, c})
		}
	}
	if len(bins) == 0 {
		return nil
	}
	sort.Slice(bins, func(i, j int) bool { return bins[i].v < bins[j].v })
	loN, hiN := n/200, n-n/200
	lo, hi := bins[0].v, bins[len(bins)-1].v
	acc := 0
	loSet := false
	for _, b := range bins {
		acc += b.c
		if !loSet && acc > loN {
			lo, loSet = b.v, true
		}
		if acc >= hiN {
			hi = b.v
			break
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	return &Window{Center: (lo + hi + 1) / 2, Width: hi - lo + 1}
}

// fileWindow is the first window of the file, if it has a usable one.
func fileWindow(m *Meta) *Window {
	c, _, _ := strings.Cut(m.WindowCenter, `\`)
	w, _, _ := strings.Cut(m.WindowWidth, `\`)
	cf, err1 := strconv.ParseFloat(strings.TrimSpace(c), 64)
	wf, err2 := strconv.ParseFloat(strings.TrimSpace(w), 64)
	if err1 != nil || err2 != nil || wf < 1 {
		return nil
	}
	return &Window{cf, wf}
}

// colorPixels builds RGBA from RGB or YBR_FULL samples, interleaved
// (planar configuration 0) or colour-by-plane (1).
func colorPixels(m *Meta, raw any, n int) ([]uint8, error) {
	var get func(i int) uint8
	switch r := raw.(type) {
	case []uint8:
		if len(r) < 3*n {
			return nil, ErrNoPreview
		}
		get = func(i int) uint8 { return r[i] }
	case []uint16:
		if len(r) < 3*n {
			return nil, ErrNoPreview
		}
		shift := max(m.BitsStored-8, 0)
		get = func(i int) uint8 { return uint8(r[i] >> uint(shift)) }
	case []uint32:
		if len(r) < 3*n {
			return nil, ErrNoPreview
		}
		shift := min(max(m.BitsStored-8, 0), 24)
		get = func(i int) uint8 { return uint8(r[i] >> uint(shift)) }
	default:
		return nil, ErrNoPreview
	}
	ybr := strings.HasPrefix(m.Photometric, "YBR_FULL") && m.Photometric != "YBR_FULL_422"
	if m.Photometric != "RGB" && !ybr {
		return nil, ErrNoPreview
	}
	planar := m.PlanarConfiguration == 1
	out := make([]uint8, 4*n)
	for i := 0; i < n; i++ {
		var a, b, c uint8
		if planar {
			a, b, c = get(i), get(n+i), get(2*n+i)
		} else {
			a, b, c = get(3*i), get(3*i+1), get(3*i+2)
		}
		if ybr {
			a, b, c = color.YCbCrToRGB(a, b, c)
		}
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = a, b, c, 255
	}
	return out, nil
}

// target is the size of a w×h image whose pixels are aspect times as tall
// as wide, fitted in size×size (never enlarged beyond the corrected size;
// size 0 keeps the corrected size).
func target(w, h, size int, aspect float64) (int, int, bool) {
	if aspect > 0 && aspect != 1 {
		// Stretch the shorter physical pixel side: never lose resolution.
		if aspect > 1 {
			h = max(1, int(float64(h)*aspect+0.5))
		} else {
			w = max(1, int(float64(w)/aspect+0.5))
		}
	}
	if size <= 0 || (w <= size && h <= size) {
		return w, h, true
	}
	if w >= h {
		return size, max(1, h*size/w), true
	}
	return max(1, w*size/h), size, true
}

// boxScale averages the source pixels under each destination pixel
// (channels bytes per pixel): cheap and free of aliasing for downscaling.
func boxScale(src []uint8, sw, sh, sstride, ch int, dw, dh int) []uint8 {
	dst := make([]uint8, dw*dh*ch)
	sum := make([]uint32, ch)
	for y := 0; y < dh; y++ {
		y0, y1 := y*sh/dh, (y+1)*sh/dh
		if y1 <= y0 {
			y1 = y0 + 1
		}
		for x := 0; x < dw; x++ {
			x0, x1 := x*sw/dw, (x+1)*sw/dw
			if x1 <= x0 {
				x1 = x0 + 1
			}
			for c := range sum {
				sum[c] = 0
			}
			for yy := y0; yy < y1; yy++ {
				row := src[yy*sstride:]
				for xx := x0; xx < x1; xx++ {
					p := row[xx*ch:]
					for c := 0; c < ch; c++ {
						sum[c] += uint32(p[c])
					}
				}
			}
			cnt := uint32((y1 - y0) * (x1 - x0))
			d := dst[(y*dw+x)*ch:]
			for c := 0; c < ch; c++ {
				d[c] = uint8((sum[c] + cnt/2) / cnt)
			}
		}
	}
	return dst
}

func fitGray(g *image.Gray, size int, aspect float64) image.Image {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	dw, dh, _ := target(w, h, size, aspect)
	if dw == w && dh == h {
		return g
	}
	return &image.Gray{Pix: boxScale(g.Pix, w, h, g.Stride, 1, dw, dh), Stride: dw, Rect: image.Rect(0, 0, dw, dh)}
}

func fitRGBA(g *image.RGBA, size int, aspect float64) image.Image {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	dw, dh, _ := target(w, h, size, aspect)
	if dw == w && dh == h {
		return g
	}
	return &image.RGBA{Pix: boxScale(g.Pix, w, h, g.Stride, 4, dw, dh), Stride: dw * 4, Rect: image.Rect(0, 0, dw, dh)}
}

// Encode writes img as PNG (lossless) or JPEG.
func Encode(w io.Writer, img image.Image, pngFormat bool) error {
	if pngFormat {
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		return enc.Encode(w, img)
	}
	return jpeg.Encode(w, img, &jpeg.Options{Quality: 88})
}
