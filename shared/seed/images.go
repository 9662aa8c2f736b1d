package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
)

// The demo's images are made at seed time: per study a few series of
// anatomy-like phantoms (phantom.go) in the modality's own IOD where it is
// small (CT, MR, CR, US), Secondary Capture otherwise (DX, MG, PET), small
// (256×256, PET 128×128) and compressed the way archives hold them: RLE
// Lossless for CT, MR and PET, baseline JPEG for radiographs and ultrasound.

// SOP classes the demo writes.
const (
	sopCT    = "1.2.840.10008.5.1.4.1.1.2"
	sopMR    = "1.2.840.10008.5.1.4.1.1.4"
	sopCR    = "1.2.840.10008.5.1.4.1.1.1"
	sopUS    = "1.2.840.10008.5.1.4.1.1.6.1"
	sopUSMF  = "1.2.840.10008.5.1.4.1.1.3.1"
	sopSC    = "1.2.840.10008.5.1.4.1.1.7"
	demoSize = 256
	petSize  = 128
	cineLen  = 12 // frames of an ultrasound cine loop
)

// seriesPlan is one series of a demo study: n instances of frames frames each.
type seriesPlan struct {
	desc, modality, bodyPart, sopClass string
	n, frames                          int
	// picture gives instance i (0-based) frame f as floating-point values
	// of the phantom (HU for CT, signal for MR/PET, 0..1 for the rest).
	picture                func(i, f int) []float64
	rows, cols             int
	center, width          float64 // stored window ("" when 0 width)
	orientation, viewPos   string
	laterality, imageType  string
	thickness, pixelMM, z0 float64
}

// studyPlan is one demo study and its patient.
type studyPlan struct {
	dept                                       *database.Department
	patient                                    *database.Patient
	uid, accession, desc, studyTime, referring string
	date                                       time.Time
	report                                     string // none, preliminary, final
	series                                     []seriesPlan
	samples                                    []string // real sample files joining this study
	studyID                                    int64    // once imported
}

// seriesFor plans the series of an exam; jitter varies the anatomy a little
// from patient to patient.
func seriesFor(desc string, rng *rand.Rand) []seriesPlan {
	jit := (rng.Float64() - 0.5) * 0.06
	slices := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	// The CT series of a study are the same slices in other windows: each
	// slice is computed once.
	slicesCT := map[int][]float64{}
	ct := func(d, body string, n, step int, c, w float64, gen func(tissues, float64, float64) []shape) seriesPlan {
		return seriesPlan{desc: d, modality: "CT", bodyPart: body, sopClass: sopCT, n: (n + step - 1) / step, frames: 1, rows: demoSize, cols: demoSize,
			center: c, width: w, imageType: `ORIGINAL\PRIMARY\AXIAL`, thickness: 5 * float64(step), pixelMM: 1.4,
			picture: func(i, _ int) []float64 {
				k := i * step // slice k of the n-slice grid
				if slicesCT[k] == nil {
					slicesCT[k] = paint(demoSize, demoSize, ctTissue.air, gen(ctTissue, zOf(k, n), jit))
				}
				return slicesCT[k]
			}}
	}
	mr := func(d, body string, n int, t tissues, gen func(tissues, float64, float64) []shape) seriesPlan {
		return seriesPlan{desc: d, modality: "MR", bodyPart: body, sopClass: sopMR, n: n, frames: 1, rows: demoSize, cols: demoSize,
			center: 500, width: 1000, imageType: `ORIGINAL\PRIMARY\OTHER`, thickness: 4, pixelMM: 0.7,
			picture: func(i, _ int) []float64 { return paint(demoSize, demoSize, t.air, gen(t, zOf(i, n)*0.9, jit)) }}
	}
	xray := func(d, modality, sop, body, view, lat string, gen func() []shape) seriesPlan {
		return seriesPlan{desc: d, modality: modality, bodyPart: body, sopClass: sop, n: 1, frames: 1, rows: demoSize, cols: demoSize,
			viewPos: view, laterality: lat, imageType: `ORIGINAL\PRIMARY`, pixelMM: 0.5,
			picture: func(int, int) []float64 { return radiograph(project(demoSize, demoSize, gen())) }}
	}
	us := func(d string, kidney bool, stills int) seriesPlan {
		var probe *sonar // made on first use, by the worker importing the study
		seed := rng.Uint64()
		return seriesPlan{desc: d, modality: "US", bodyPart: "ABDOMEN", sopClass: sopUSMF, n: 1 + stills, frames: cineLen,
			rows: demoSize, cols: demoSize, imageType: `ORIGINAL\PRIMARY\ABDOMINAL`,
			picture: func(i, f int) []float64 {
				if probe == nil {
					probe = newSonar(demoSize, demoSize, seed, kidney)
				}
				return probe.frame(f + 3*i)
			}}
	}
	switch desc {
	case "CT thorax with contrast":
		n := slices(5, 8)
		return []seriesPlan{ct("Thorax 5 mm soft tissue", "CHEST", n, 1, 40, 400, thorax), ct("Thorax 10 mm lung", "CHEST", n, 2, -600, 1500, thorax)}
	case "CT brain without contrast":
		n := slices(5, 8)
		return []seriesPlan{ct("Brain 5 mm", "HEAD", n, 1, 40, 80, head), ct("Brain 10 mm bone", "HEAD", n, 2, 600, 2800, head)}
	case "CT abdomen/pelvis":
		n := slices(6, 9)
		return []seriesPlan{ct("Abdomen portal venous 5 mm", "ABDOMEN", n, 1, 50, 400, abdomen), ct("Abdomen bone 10 mm", "ABDOMEN", n, 2, 400, 1800, abdomen)}
	case "MRI knee left":
		n := slices(5, 6)
		pd := tissues(mrT1)
		pd.fat, pd.csf, pd.disc = 750, 500, 500
		n = slices(4, 6)
		knees := []seriesPlan{mr("AX PD", "KNEE", n, pd, knee), mr("AX T1", "KNEE", n, mrT1, knee), mr("AX T2", "KNEE", n, mrT2, knee)}
		for i := range knees {
			knees[i].laterality = "L"
		}
		return knees
	case "MRI lumbar spine":
		n := slices(5, 7)
		return []seriesPlan{mr("SAG T1", "LSPINE", n, mrT1, spine), mr("SAG T2", "LSPINE", n, mrT2, spine)}
	case "MRI prostate":
		n := slices(5, 7)
		pelvis := func(t tissues, z, j float64) []shape { return abdomen(t, 0.75+0.25*z, j) }
		return []seriesPlan{mr("AX T2", "PROSTATE", n, mrT2, pelvis), mr("AX T1", "PROSTATE", n, mrT1, pelvis)}
	case "X-ray chest PA/LAT":
		return []seriesPlan{xray("Chest PA", "CR", sopCR, "CHEST", "PA", "", func() []shape { return chestPA(jit) }),
			xray("Chest LAT", "CR", sopCR, "CHEST", "LL", "", func() []shape { return chestLAT(jit) })}
	case "X-ray hand right":
		s := xray("Hand right", "DX", sopSC, "HAND", "PA", "R", nil)
		s.n = 2
		s.picture = func(i, _ int) []float64 { return radiograph(project(demoSize, demoSize, hand(i == 1, jit))) }
		return []seriesPlan{s}
	case "Mammography bilateral":
		side := func(right bool) seriesPlan {
			lat, d := "L", "Left breast CC/MLO"
			if right {
				lat, d = "R", "Right breast CC/MLO"
			}
			s := xray(d, "MG", sopSC, "BREAST", "CC", lat, nil)
			s.n = 2
			s.picture = func(i, _ int) []float64 { return radiograph(project(demoSize, demoSize, breast(i == 1, right, jit))) }
			return s
		}
		return []seriesPlan{side(true), side(false)}
	case "Ultrasound abdomen":
		return []seriesPlan{us("Liver", false, rng.IntN(3)), us("Kidney right", true, rng.IntN(2))}
	case "PET-CT whole body":
		n := slices(6, 8)
		pet := seriesPlan{desc: "PET WB coronal", modality: "PT", bodyPart: "WHOLEBODY", sopClass: sopSC, n: n, frames: 1,
			rows: petSize, cols: petSize, center: 1500, width: 3000, imageType: `DERIVED\SECONDARY`, pixelMM: 4,
			picture: func(i, _ int) []float64 {
				return blur(paint(petSize, petSize, 0, petCoronal(ptTissue, zOf(i, n)*0.8, jit)), petSize, petSize)
			}}
		return []seriesPlan{pet, ct("CT WB low dose 5 mm", "WHOLEBODY", n, 1, 40, 400, abdomen)}
	}
	return nil
}

// zOf spreads n slices over -1..1.
func zOf(i, n int) float64 {
	if n <= 1 {
		return 0
	}
	return -0.85 + 1.7*float64(i)/float64(n-1)
}

// radiograph turns attenuation sums into 0..1 display values (bone white).
func radiograph(att []float64) []float64 {
	for i, a := range att {
		att[i] = 0.04 + 0.9*(1-math.Exp(-1.6*math.Max(a, 0)))
	}
	return att
}

// blur is a 3×3 box blur (PET's soft look).
func blur(img []float64, w, h int) []float64 {
	out := make([]float64, len(img))
	for r := 0; r < h; r++ {
		for c := 0; c < w; c++ {
			sum, n := 0.0, 0
			for dr := -1; dr <= 1; dr++ {
				for dc := -1; dc <= 1; dc++ {
					rr, cc := r+dr, c+dc
					if rr >= 0 && rr < h && cc >= 0 && cc < w {
						sum += img[rr*w+cc]
						n++
					}
				}
			}
			out[r*w+c] = math.Round(sum / float64(n))
		}
	}
	return out
}

// instances is the number of instances the plan stores (samples included).
func (p *studyPlan) instances() int {
	n := len(p.samples)
	for _, s := range p.series {
		n += s.n
	}
	return n
}

// files makes the study's synthetic instances, calling emit with each file.
func (p *studyPlan) files(emit func(name string, b []byte) error) error {
	pn := p.patient.FamilyName + "^" + p.patient.GivenName
	birth := ""
	if p.patient.BirthDate != nil {
		birth = p.patient.BirthDate.Format("20060102")
	}
	frameOfRef := dicom.DerivedUID(demoSalt, p.uid+"/for")
	for si, s := range p.series {
		seriesUID := dicom.DerivedUID(demoSalt, fmt.Sprintf("%s/%d", p.uid, si+1))
		for i := 0; i < s.n; i++ {
			frames := s.frames
			sop := s.sopClass
			if s.modality == "US" && i > 0 {
				frames, sop = 1, sopUS // the stills after the cine loop
			}
			pics := make([][]float64, frames)
			for f := range pics {
				pics[f] = s.picture(i, f)
			}
			// Stored values, quantized once: Synth asks for every pixel.
			var lo, hi, scale, offset float64 = 0, 4095, 1, 0
			switch s.modality {
			case "CT":
				offset = 1024
			case "PT":
				hi = 65535
			case "MR":
			default:
				hi, scale = 255, 255
			}
			stored := make([][]uint16, frames)
			for f, pic := range pics {
				q := make([]uint16, len(pic))
				for k, v := range pic {
					q[k] = uint16(clampInt(v*scale+offset, lo, hi))
				}
				stored[f] = q
			}
			pixel := func(f, k, _ int) int { return int(stored[f][k]) }
			syn := dicom.Synth{
				StudyUID: p.uid, SeriesUID: seriesUID, SOPUID: dicom.DerivedUID(demoSalt, fmt.Sprintf("%s/%d/%d", p.uid, si+1, i+1)),
				CharSet: "ISO_IR 192", PatientID: p.patient.PatientID, PatientName: pn, BirthDate: birth,
				Modality: s.modality, Rows: s.rows, Cols: s.cols, Frames: frames, SOPClassUID: sop,
			}
			if s.pixelMM > 0 {
				syn.PixelSpacing = fmt.Sprintf(`%g\%g`, s.pixelMM, s.pixelMM)
			}
			date := p.date.Format("20060102")
			ex := []dicom.Attr{
				{Tag: 0x00080008, Value: strings.Split(s.imageType, `\`)},
				{Tag: 0x00080020, Value: []string{date}},
				{Tag: 0x00080021, Value: []string{date}},
				{Tag: 0x00080023, Value: []string{date}},
				{Tag: 0x00080030, Value: []string{p.studyTime}},
				{Tag: 0x00080031, Value: []string{p.studyTime}},
				{Tag: 0x00080033, Value: []string{p.studyTime}},
				{Tag: 0x00080050, Value: []string{p.accession}},
				{Tag: 0x00080070, Value: []string{"RadPass demo (synthetic phantom)"}},
				{Tag: 0x00080090, Value: []string{strings.ReplaceAll(p.referring, "Dr. ", "") + "^^^Dr."}},
				{Tag: 0x00081030, Value: []string{p.desc}},
				{Tag: 0x0008103E, Value: []string{s.desc}},
				{Tag: 0x00100040, Value: []string{p.patient.Sex}},
				{Tag: 0x00180015, Value: []string{s.bodyPart}},
				{Tag: 0x00200010, Value: []string{p.accession}},
				{Tag: 0x00200011, Value: []string{strconv.Itoa(si + 1)}},
				{Tag: 0x00200013, Value: []string{strconv.Itoa(i + 1)}},
			}
			switch s.modality {
			case "CT", "MR":
				z := float64(i) * s.thickness
				half := float64(s.cols) * s.pixelMM / 2
				ex = append(ex,
					dicom.Attr{Tag: 0x00180050, Value: []string{fmt.Sprint(s.thickness)}},
					dicom.Attr{Tag: 0x00185100, Value: []string{"HFS"}},
					dicom.Attr{Tag: 0x00200012, Value: []string{"1"}},
					dicom.Attr{Tag: 0x00200032, Value: []string{fmt.Sprint(-half), fmt.Sprint(-half), fmt.Sprint(z)}},
					dicom.Attr{Tag: 0x00200037, Value: []string{"1", "0", "0", "0", "1", "0"}},
					dicom.Attr{Tag: 0x00200052, Value: []string{frameOfRef}},
					dicom.Attr{Tag: 0x00201040, Value: []string{""}},
					dicom.Attr{Tag: 0x00201041, Value: []string{fmt.Sprint(z)}},
				)
				if s.laterality != "" {
					ex = append(ex, dicom.Attr{Tag: 0x00200060, Value: []string{s.laterality}})
				}
				syn.TransferSyntax, syn.BitsAllocated, syn.BitsStored = dicom.TSRLE, 16, 12
				syn.WindowCenter, syn.WindowWidth = fmt.Sprint(s.center), fmt.Sprint(s.width)
				if s.modality == "CT" {
					ex = append(ex, dicom.Attr{Tag: 0x00180060, Value: []string{"120"}})
					syn.Slope, syn.Intercept = "1", "-1024"
					syn.Pixel = pixel
				} else {
					ex = append(ex,
						dicom.Attr{Tag: 0x00180020, Value: []string{"SE"}},
						dicom.Attr{Tag: 0x00180021, Value: []string{"NONE"}},
						dicom.Attr{Tag: 0x00180022, Value: []string{""}},
						dicom.Attr{Tag: 0x00180023, Value: []string{"2D"}},
						dicom.Attr{Tag: 0x00180080, Value: []string{"500"}},
						dicom.Attr{Tag: 0x00180081, Value: []string{"15"}},
						dicom.Attr{Tag: 0x00180091, Value: []string{"1"}},
					)
					syn.Pixel = pixel
				}
			case "PT":
				ex = append(ex, dicom.Attr{Tag: 0x00080064, Value: []string{"SYN"}}, dicom.Attr{Tag: 0x00200020, Value: []string{`L\F`}})
				syn.TransferSyntax, syn.BitsAllocated, syn.BitsStored = dicom.TSRLE, 16, 16
				syn.WindowCenter, syn.WindowWidth = fmt.Sprint(s.center), fmt.Sprint(s.width)
				syn.Pixel = pixel
			default: // radiographs and ultrasound: 8-bit baseline JPEG
				syn.TransferSyntax, syn.BitsAllocated, syn.JPEGQuality = dicom.TSJPEGBaseline, 8, 85
				syn.Pixel = pixel
				ex = append(ex,
					dicom.Attr{Tag: 0x00282110, Value: []string{"01"}},
					dicom.Attr{Tag: 0x00282114, Value: []string{"ISO_10918_1"}},
					dicom.Attr{Tag: 0x00200020, Value: []string{orientation(s)}},
				)
				if s.laterality != "" {
					ex = append(ex, dicom.Attr{Tag: 0x00200060, Value: []string{s.laterality}})
				}
				switch s.modality {
				case "CR":
					ex = append(ex, dicom.Attr{Tag: 0x00185101, Value: []string{s.viewPos}})
				case "US":
					if frames > 1 {
						ex = append(ex, dicom.Attr{Tag: 0x00181063, Value: []string{"66.7"}},
							dicom.Attr{Tag: 0x00280009, Value: []int{0x0018, 0x1063}})
					}
				default:
					ex = append(ex, dicom.Attr{Tag: 0x00080064, Value: []string{"SYN"}})
				}
			}
			syn.Extra = ex
			b, err := syn.Bytes()
			if err != nil {
				return fmt.Errorf("%s series %d instance %d: %w", p.accession, si+1, i+1, err)
			}
			if err := emit(fmt.Sprintf("%s-%d-%d.dcm", p.accession, si+1, i+1), b); err != nil {
				return err
			}
		}
	}
	return nil
}

// orientation is a projection's Patient Orientation (row, column direction).
func orientation(s seriesPlan) string {
	switch {
	case s.viewPos == "LL":
		return `A\F`
	case s.modality == "MG" && s.laterality == "R":
		return `L\F`
	case s.modality == "MG":
		return `R\F`
	}
	return `L\F`
}

func clampInt(v, lo, hi float64) int {
	return int(math.Round(math.Min(math.Max(v, lo), hi)))
}
