package seed

import (
	"math"
)

// Phantoms: the demo's pictures, built from ellipses the way the
// Shepp-Logan head phantom is, so every study shows anatomy-like shapes a
// viewer can be judged on (edges, windows, series and frames), generated in
// a few milliseconds per image and compressing well (no noise on the
// cross-sections).

// shape is an ellipse in image coordinates (-1..1 both ways, y down),
// rotated by deg degrees. For a cross-section it paints val over what lies
// below; for a projection it adds val times its thickness profile
// sqrt(1-r²), the projection of an ellipsoid.
type shape struct {
	cx, cy, a, b, deg float64
	val               float64
}

// span gives the columns [x0, x1) of image row y (-1..1) inside e, for an
// image w pixels wide, and the quadratic r²(dx) = A dx² + B dx + C0 to
// evaluate the profile with.
func (e shape) span(y float64, w int) (x0, x1 int, A, B, C0 float64, ok bool) {
	if e.a <= 0 || e.b <= 0 {
		return 0, 0, 0, 0, 0, false
	}
	th := e.deg * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	ia, ib := 1/(e.a*e.a), 1/(e.b*e.b)
	dy := y - e.cy
	A = c*c*ia + s*s*ib
	B = 2 * dy * c * s * (ia - ib)
	C0 = dy * dy * (s*s*ia + c*c*ib)
	disc := B*B - 4*A*(C0-1)
	if disc <= 0 {
		return 0, 0, 0, 0, 0, false
	}
	sq := math.Sqrt(disc)
	lo, hi := e.cx+(-B-sq)/(2*A), e.cx+(-B+sq)/(2*A)
	// Column k's centre is at x = (k+0.5)*2/w - 1.
	x0 = int(math.Ceil((lo+1)*float64(w)/2 - 0.5))
	x1 = int(math.Floor((hi+1)*float64(w)/2-0.5)) + 1
	x0, x1 = max(x0, 0), min(x1, w)
	return x0, x1, A, B, C0, x0 < x1
}

// paint draws a cross-section: background bg, then each shape over the
// ones before it.
func paint(w, h int, bg float64, shapes []shape) []float64 {
	img := make([]float64, w*h)
	for i := range img {
		img[i] = bg
	}
	for r := 0; r < h; r++ {
		y := (float64(r)+0.5)*2/float64(h) - 1
		row := img[r*w : (r+1)*w]
		for _, e := range shapes {
			x0, x1, _, _, _, ok := e.span(y, w)
			if !ok {
				continue
			}
			for k := x0; k < x1; k++ {
				row[k] = e.val
			}
		}
	}
	return img
}

// project draws a radiograph: the sum of the shapes' thickness profiles.
func project(w, h int, shapes []shape) []float64 {
	img := make([]float64, w*h)
	for r := 0; r < h; r++ {
		y := (float64(r)+0.5)*2/float64(h) - 1
		row := img[r*w : (r+1)*w]
		for _, e := range shapes {
			x0, x1, A, B, C0, ok := e.span(y, w)
			if !ok {
				continue
			}
			for k := x0; k < x1; k++ {
				dx := (float64(k)+0.5)*2/float64(w) - 1 - e.cx
				if q := 1 - (A*dx*dx + B*dx + C0); q > 0 {
					row[k] += e.val * math.Sqrt(q)
				}
			}
		}
	}
	return img
}

// section scales an ellipsoid's cross-section at height z: an ellipsoid
// of half-height hz centred at z0 cuts the slice in an ellipse shrunk by
// sqrt(1-((z-z0)/hz)²), or not at all.
func section(e shape, z, z0, hz float64) shape {
	t := (z - z0) / hz
	if t <= -1 || t >= 1 {
		e.a, e.b = 0, 0
		return e
	}
	k := math.Sqrt(1 - t*t)
	e.a, e.b = e.a*k, e.b*k
	return e
}

// tissues are the values of the cross-section phantoms, one per modality flavour.
type tissues struct {
	air, fat, soft, muscle, bone, marrow, lung, csf, brain, grey, blood, liver, kidney, disc float64
}

var (
	ctTissue = tissues{air: -1000, fat: -100, soft: 40, muscle: 55, bone: 900, marrow: 250, lung: -850, csf: 8,
		brain: 30, grey: 42, blood: 160, liver: 65, kidney: 170, disc: 80}
	mrT1 = tissues{air: 0, fat: 900, soft: 380, muscle: 300, bone: 40, marrow: 780, lung: 30, csf: 120,
		brain: 520, grey: 430, blood: 60, liver: 450, kidney: 360, disc: 300}
	mrT2 = tissues{air: 0, fat: 700, soft: 420, muscle: 220, bone: 30, marrow: 560, lung: 30, csf: 1000,
		brain: 430, grey: 560, blood: 80, liver: 260, kidney: 600, disc: 820}
	ptTissue = tissues{air: 0, fat: 60, soft: 300, muscle: 350, bone: 250, marrow: 500, lung: 90, csf: 100,
		brain: 2600, grey: 3200, blood: 700, liver: 1100, kidney: 1800, disc: 300}
)

// head is a Shepp-Logan-like head at height z (-1 crown .. 1 skull base).
func head(t tissues, z, jitter float64) []shape {
	z *= 0.55 // the series covers the ventricles' levels, not the crown's
	hz := 0.95
	s := []shape{
		section(shape{0, 0, 0.72, 0.9, 0, t.soft}, z, 0, 1.05),
		section(shape{0, 0, 0.69, 0.86, 0, t.bone}, z, 0, hz),
		section(shape{0, 0.015, 0.64, 0.8, 0, t.marrow}, z, 0, hz*0.97),
		section(shape{0, 0.02, 0.61, 0.77, 0, t.grey}, z, 0, hz*0.94),
		section(shape{0, 0.02, 0.55, 0.70, 0, t.brain}, z, 0, hz*0.88),
		section(shape{0.22 + jitter, 0, 0.11, 0.31, -18, t.csf}, z, 0.05, 0.35),
		section(shape{-0.22, 0, 0.16, 0.41, 18, t.csf}, z, 0.05, 0.35),
		section(shape{0, -0.35, 0.21, 0.25, 0, t.grey}, z, -0.15, 0.45),
		section(shape{0, 0.1, 0.046, 0.046, 0, t.blood}, z, 0.25, 0.2),
		section(shape{0.3 * jitter, -0.1, 0.046, 0.046, 0, t.grey}, z, 0.25, 0.2),
		section(shape{-0.08, 0.605, 0.046, 0.023, 0, t.grey}, z, 0, 0.3),
		section(shape{0, 0.606, 0.023, 0.023, 0, t.grey}, z, 0, 0.2),
		section(shape{0.06, 0.605, 0.023, 0.046, 0, t.grey}, z, 0, 0.3),
	}
	return s
}

// thorax is an axial chest section at z (-1 apex .. 1 diaphragm).
func thorax(t tissues, z, jitter float64) []shape {
	heart := section(shape{0.12 + jitter, 0.05, 0.3, 0.26, -30, t.muscle}, z, 0.35, 0.55)
	s := []shape{
		{0, 0.05, 0.9, 0.62, 0, t.fat},
		{0, 0.05, 0.84, 0.56, 0, t.muscle},
		{0, 0.05, 0.78, 0.5, 0, t.soft},
		section(shape{-0.4, 0.02, 0.3, 0.4, 8, t.lung}, z, -0.05, 1.1),
		section(shape{0.42, 0.02, 0.28, 0.38, -8, t.lung}, z, 0.05, 1.05),
		heart,
		section(shape{0.1, -0.02, 0.2, 0.16, -30, t.blood}, z, 0.35, 0.45),
		{-0.08, 0.22, 0.07, 0.07, 0, t.blood},
		{0.0, 0.45, 0.11, 0.1, 0, t.bone},
		{0.0, 0.45, 0.08, 0.07, 0, t.marrow},
		{0.0, 0.58, 0.035, 0.03, 0, t.csf},
		{0.0, -0.42, 0.09, 0.04, 0, t.bone},
	}
	for _, ang := range []float64{25, 50, 130, 155, 205, 235, 305, 335} {
		r := ang * math.Pi / 180
		s = append(s, shape{0.8 * math.Cos(r), 0.05 + 0.52*math.Sin(r), 0.05, 0.03, ang, t.bone})
	}
	return s
}

// abdomen is an axial abdomen/pelvis section at z (-1 upper .. 1 pelvis).
func abdomen(t tissues, z, jitter float64) []shape {
	return []shape{
		{0, 0.05, 0.88, 0.66, 0, t.fat},
		{0, 0.05, 0.8, 0.58, 0, t.muscle},
		{0, 0.03, 0.74, 0.5, 0, t.soft},
		section(shape{-0.35, -0.05, 0.4, 0.38, 10, t.liver}, z, -0.5, 0.7),
		section(shape{0.5, 0.0, 0.16, 0.26, -25, t.liver * 0.8}, z, -0.6, 0.4),
		section(shape{-0.3, 0.3, 0.11, 0.16, 20, t.kidney}, z, -0.1, 0.4),
		section(shape{0.32 + jitter, 0.3, 0.11, 0.16, -20, t.kidney}, z, -0.05, 0.4),
		section(shape{-0.3, 0.3, 0.05, 0.08, 20, t.csf}, z, -0.1, 0.3),
		section(shape{0.32 + jitter, 0.3, 0.05, 0.08, -20, t.csf}, z, -0.05, 0.3),
		{0.06, 0.22, 0.06, 0.06, 0, t.blood},
		{-0.08, 0.2, 0.07, 0.06, 0, t.blood * 0.7},
		section(shape{0.2, -0.2, 0.08, 0.06, 0, t.air}, z, 0.2, 0.5),
		section(shape{-0.1, -0.3, 0.06, 0.05, 0, t.air}, z, 0.4, 0.5),
		section(shape{0, 0.2, 0.12, 0.1, 0, t.csf}, z, 0.9, 0.35),
		section(shape{-0.55, 0.2, 0.22, 0.15, 30, t.bone}, z, 0.9, 0.45),
		section(shape{0.55, 0.2, 0.22, 0.15, -30, t.bone}, z, 0.9, 0.45),
		{0.0, 0.45, 0.12, 0.1, 0, t.bone},
		{0.0, 0.45, 0.09, 0.07, 0, t.marrow},
		{0.0, 0.58, 0.035, 0.03, 0, t.csf},
	}
}

// knee is an axial-ish section of a knee at z (-1 thigh .. 1 calf).
func knee(t tissues, z, jitter float64) []shape {
	femur := section(shape{0, 0, 0.4, 0.34, 0, t.bone}, z, -0.6, 0.9)
	tibia := section(shape{0.02, 0.02, 0.38, 0.3, 0, t.bone}, z, 0.75, 0.8)
	inner := func(e shape) shape { e.a, e.b, e.val = e.a*0.85, e.b*0.85, t.marrow; return e }
	return []shape{
		{0, 0, 0.85, 0.82, 0, t.fat},
		{0, 0, 0.75, 0.72, 0, t.muscle},
		femur, inner(femur), tibia, inner(tibia),
		section(shape{0, -0.55, 0.2, 0.1, 0, t.bone}, z, -0.1, 0.25),
		section(shape{0, -0.55, 0.16, 0.07, 0, t.marrow}, z, -0.1, 0.22),
		section(shape{-0.45 + jitter, 0.1, 0.12, 0.1, 0, t.bone}, z, 0.8, 0.5),
		section(shape{0, 0.02, 0.42, 0.05, 0, t.disc}, z, 0.05, 0.12),
		{0.1, 0.45, 0.05, 0.05, 0, t.blood},
	}
}

// spine is a sagittal lumbar spine section at x offset z (-1 .. 1 lateral).
func spine(t tissues, z, jitter float64) []shape {
	s := []shape{
		{0, 0, 0.9, 0.98, 0, t.fat},
		{0.05, 0, 0.8, 0.96, 0, t.muscle},
		{-0.35, 0, 0.4, 0.96, 0, t.soft},
	}
	off := math.Abs(z)
	for i := -2; i <= 2; i++ {
		y := float64(i)*0.34 + jitter
		s = append(s, section(shape{0.0, y, 0.22, 0.13, 4, t.bone}, off, 0, 0.9),
			section(shape{0.0, y, 0.19, 0.11, 4, t.marrow}, off, 0, 0.85),
			section(shape{0.0, y + 0.17, 0.2, 0.035, 4, t.disc}, off, 0, 0.85),
			section(shape{0.42, y, 0.08, 0.09, 0, t.bone}, off, 0.4, 0.5))
	}
	s = append(s, section(shape{0.27, 0, 0.05, 0.98, 0, t.csf}, off, 0, 0.25))
	return s
}

// chestPA and friends are radiographs: attenuation sums.
func chestPA(jitter float64) []shape {
	s := []shape{
		{0, 0.1, 0.86, 0.95, 0, 0.9},
		{-0.37, -0.05, 0.28, 0.55, 4, -0.55},
		{0.38, -0.05, 0.27, 0.52, -4, -0.55},
		{0.1 + jitter, 0.25, 0.3, 0.27, -20, 0.45},
		{0, 0.05, 0.07, 0.9, 0, 0.5},
		{-0.3, 0.55, 0.38, 0.18, 0, 0.35},
		{0.25, 0.6, 0.35, 0.12, 0, 0.25},
		{-0.3, -0.62, 0.28, 0.035, -12, 0.35},
		{0.3, -0.62, 0.28, 0.035, 12, 0.35},
	}
	for i := 0; i < 8; i++ {
		y := -0.55 + float64(i)*0.13
		s = append(s, shape{-0.38, y, 0.34, 0.022, 12, 0.16}, shape{0.38, y, 0.34, 0.022, -12, 0.16})
	}
	return s
}

func chestLAT(jitter float64) []shape {
	s := []shape{
		{0, 0.1, 0.7, 0.95, 0, 1.1},
		{0, -0.05, 0.42, 0.55, 0, -0.6},
		{-0.25 + jitter, 0.25, 0.3, 0.3, 0, 0.4},
		{0.55, 0.05, 0.1, 0.9, 0, 0.5},
		{0, 0.62, 0.6, 0.15, 0, 0.35},
		{-0.62, 0.0, 0.04, 0.45, 0, 0.3},
	}
	for i := 0; i < 9; i++ {
		s = append(s, shape{0.48, -0.6 + float64(i)*0.15, 0.05, 0.05, 0, 0.35})
	}
	return s
}

func hand(oblique bool, jitter float64) []shape {
	tilt := 0.0
	if oblique {
		tilt = 12
	}
	s := []shape{{0, 0.45, 0.42, 0.42, tilt, 0.5}, {0, 0.85, 0.25, 0.3, 0, 0.5}}
	for f := 0; f < 4; f++ {
		x := -0.27 + float64(f)*0.18
		tip := -0.55 - 0.1*math.Sin(float64(f+1))
		s = append(s, shape{x, (tip + 0.1) / 1.0, 0.07, 0.55, tilt, 0.35})
		s = append(s, shape{x, 0.32, 0.04, 0.2, tilt, 0.55})
		for k := 0; k < 3; k++ {
			y := tip + 0.08 + float64(k)*0.2
			s = append(s, shape{x, y, 0.035, 0.085, tilt, 0.55})
		}
	}
	s = append(s, shape{0.4 + jitter, 0.15, 0.08, 0.35, -35, 0.35}, shape{0.38, 0.2, 0.04, 0.15, -35, 0.55},
		shape{0.5, -0.1, 0.035, 0.09, -35, 0.55})
	for k := 0; k < 6; k++ {
		s = append(s, shape{-0.2 + float64(k%3)*0.18, 0.62 + float64(k/3)*0.12, 0.07, 0.05, 0, 0.5})
	}
	s = append(s, shape{-0.12, 0.95, 0.09, 0.3, 0, 0.6}, shape{0.14, 0.95, 0.07, 0.3, 0, 0.6})
	return s
}

// breast: cc (craniocaudal) or mlo, right (mirror) or left.
func breast(mlo, right bool, jitter float64) []shape {
	sx := 1.0
	if right {
		sx = -1
	}
	s := []shape{{-1 * sx, 0, 1.2, 0.85, 0, 0.6}}
	if mlo {
		s = append(s, shape{-1 * sx, -0.9, 0.55, 0.9, 30 * sx, 0.5})
	}
	for i := 0; i < 7; i++ {
		a := float64(i) * 0.9
		s = append(s, shape{(-0.55 + 0.25*math.Cos(a+jitter)) * sx, 0.3 * math.Sin(a*1.7), 0.18, 0.09, 20 * float64(i), 0.25})
	}
	s = append(s, shape{(0.12 + jitter) * sx, 0.05, 0.03, 0.03, 0, 0.2})
	return s
}

// petCoronal is a coronal PET section (uptake).
func petCoronal(t tissues, z, jitter float64) []shape {
	return []shape{
		{0, 0.05, 0.5, 0.95, 0, t.soft},
		section(shape{0, -0.8, 0.17, 0.15, 0, t.brain}, z, 0, 0.9),
		section(shape{-0.25, -0.25, 0.2, 0.28, 0, t.lung}, z, 0, 0.9),
		section(shape{0.25, -0.25, 0.2, 0.28, 0, t.lung}, z, 0, 0.9),
		section(shape{0.07, -0.15, 0.12, 0.11, -20, t.kidney}, z, -0.2, 0.5),
		section(shape{-0.2, 0.12, 0.2, 0.14, 10, t.liver}, z, 0, 0.8),
		section(shape{-0.15, 0.3, 0.06, 0.09, 0, t.kidney}, z, 0.3, 0.4),
		section(shape{0.17, 0.3, 0.06, 0.09, 0, t.kidney}, z, 0.3, 0.4),
		section(shape{0, 0.72, 0.09, 0.07, 0, t.grey * 1.5}, z, -0.1, 0.5),
		section(shape{0.3 + jitter, -0.1, 0.04, 0.04, 0, t.grey}, z, 0.1, 0.3),
	}
}

// sonar is an ultrasound probe's view of one organ: the sector's geometry
// and a speckle pattern (grains of 2×2 pixels), computed once per series;
// frame gives the frames of a cine loop, where breathing moves the organ.
type sonar struct {
	w, h   int
	gain   []float64 // 0 outside the sector, depth attenuation inside
	speck  []float64 // speckle, h+margin rows so it can move with the organ
	kidney bool
}

const sonarMargin = 16

func newSonar(w, h int, seed uint64, kidney bool) *sonar {
	s := &sonar{w: w, h: h, gain: make([]float64, w*h), speck: make([]float64, w*(h+sonarMargin)), kidney: kidney}
	for r := 0; r < h; r++ {
		y := float64(r) / float64(h) // depth 0..1
		for c := 0; c < w; c++ {
			x := (float64(c)+0.5)*2/float64(w) - 1
			ang, dep := math.Atan2(x, y+0.15), math.Hypot(x, y+0.15)
			if math.Abs(ang) <= 0.7 && dep >= 0.2 && dep <= 1.1 {
				s.gain[r*w+c] = 1.15 - 0.5*dep
			}
		}
	}
	for r := 0; r < h+sonarMargin; r++ {
		for c := 0; c < w; c++ {
			k := uint64(r/2)*2654435761 ^ uint64(c/2)*40503 ^ seed
			k ^= k >> 13
			k *= 0x9E3779B97F4A7C15
			sp := float64(k>>40&0xff) / 255
			s.speck[r*w+c] = 0.35 + 0.9*sp*sp
		}
	}
	return s
}

// frame f of the loop as 0..1 grey.
func (s *sonar) frame(f int) []float64 {
	shift := 0.04 * math.Sin(float64(f)*2*math.Pi/cineLen)
	org := []shape{
		{0, 0.3 + shift, 1.1, 0.7, 0, 0.55},
		{-0.2, 0.2 + shift, 0.12, 0.1, 0, 0.02},
		{0.25, 0.55 + shift, 0.09, 0.08, 0, 0.02},
	}
	if s.kidney {
		org = append(org, shape{0.1, 0.45 + shift, 0.45, 0.25, 15, 0.25}, shape{0.1, 0.45 + shift, 0.25, 0.1, 15, 0.35})
	}
	img := paint(s.w, s.h, 0.15, org)
	off := int(math.Round((shift + 0.04) * float64(s.h) / 2)) // the speckle moves with the organ
	off = min(max(off, 0), sonarMargin)
	for i := range img {
		img[i] *= s.gain[i] * s.speck[i+off*s.w]
	}
	return img
}
