// Package dicom wraps github.com/suyashkumar/dicom: metadata extraction for
// intake (with PS3.5 character sets decoded) and frame rendering with the
// LUTs the library leaves to its caller (modality, VOI, MONOCHROME1).
package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Reasons a file is refused. They are stable values so callers (CLI summary,
// STOW-RS failure reasons) can tell them apart.
var (
	ErrNotDICOM   = errors.New("not a DICOM file or broken DICOM")
	ErrMissingUID = errors.New("missing or invalid study, series or SOP instance UID")
	ErrTooLarge   = errors.New("pixel data larger than the file")
)

// PersonName holds the alphabetic components of a PN value.
type PersonName struct {
	Family, Given, Middle, Prefix, Suffix string
}

// Meta is what RadPass stores about one instance.
type Meta struct {
	TransferSyntax string
	SOPClassUID    string
	SOPInstanceUID string
	StudyUID       string
	SeriesUID      string

	PatientID   string
	PatientName PersonName
	BirthDate   *time.Time
	Sex         string

	StudyDate          *time.Time
	StudyTime          string
	Accession          string
	StudyDescription   string
	ReferringPhysician string

	Modality          string
	SeriesNumber      *int
	SeriesDescription string
	BodyPart          string

	InstanceNumber      *int
	Rows, Columns       int
	Frames              int
	SamplesPerPixel     int
	BitsAllocated       int
	BitsStored          int
	HighBit             int
	PixelRepresentation int
	PlanarConfiguration int
	Photometric         string
	RescaleSlope        float64
	RescaleIntercept    float64
	WindowCenter        string // as in the file, values separated by `\`
	WindowWidth         string
	HasPixelData        bool
	// BurnedIn says whether the pixels identify the patient: "YES" when
	// Burned In Annotation (0028,0301) or Recognizable Visual Features
	// (0028,0302) is YES, else Burned In Annotation's "NO" or "".
	BurnedIn string
	// PixelAspect is the height of a pixel over its width, from Pixel
	// Spacing, Imager Pixel Spacing or Pixel Aspect Ratio; 1 when square
	// or not stated. Renderings are stretched to it.
	PixelAspect float64
}

// ReadMeta parses the header of a DICOM stream of size bytes, skipping pixel
// data (so memory stays small whatever the file size). It never panics.
func ReadMeta(r io.ReaderAt, size int64) (m *Meta, err error) {
	ds, _, err := parse(r, size, dcm.SkipPixelData())
	if err != nil {
		return nil, err
	}
	m = metaFrom(ds)
	if !validUID(m.SOPInstanceUID) || !validUID(m.StudyUID) || !validUID(m.SeriesUID) {
		return nil, ErrMissingUID
	}
	return m, nil
}

// ReadHeader is ReadMeta's parse, returning the data set itself (file meta
// group included, pixel data skipped, UN values of known tags resolved)
// for callers that need more of the header than Meta holds, and the number
// of UN elements it resolved (see ResolveUN).
func ReadHeader(r io.ReaderAt, size int64) (ds *dcm.Dataset, resolvedUN int, err error) {
	parsed, info, err := parseWith(r, size, true, dcm.SkipPixelData())
	if err != nil {
		return nil, 0, err
	}
	m := metaFrom(parsed)
	if !validUID(m.SOPInstanceUID) || !validUID(m.StudyUID) || !validUID(m.SeriesUID) {
		return nil, 0, ErrMissingUID
	}
	return &parsed, info.resolvedUN, nil
}

// ReadFull is ReadHeader with the pixel data kept as stored (not decoded):
// the whole data set, for rewriting the file.
func ReadFull(r io.ReaderAt, size int64) (*dcm.Dataset, error) {
	ds, _, err := parse(r, size, dcm.SkipProcessingPixelDataValue())
	if err != nil {
		return nil, err
	}
	m := metaFrom(ds)
	if !validUID(m.SOPInstanceUID) || !validUID(m.StudyUID) || !validUID(m.SeriesUID) {
		return nil, ErrMissingUID
	}
	return &ds, nil
}

// WithFileMeta gives a stream without the Part 10 preamble, prefix or file
// meta group the ones it lacks (transfer syntax guessed from the first
// element), as every reader here sees it; false if it is no DICOM stream.
func WithFileMeta(r io.ReaderAt, size int64) (io.ReaderAt, int64, bool) {
	return withFileMeta(r, size)
}

// parse runs the library with panics turned into ErrNotDICOM: hostile input
// must never take the server down.
func parse(r io.ReaderAt, size int64, opts ...dcm.ParseOption) (ds dcm.Dataset, info *walkInfo, err error) {
	return parseWith(r, size, false, opts...)
}

// parseWith is parse; with holes (for a parse that skips pixel data) the
// native pixel data values are not read from r.
func parseWith(r io.ReaderAt, size int64, holes bool, opts ...dcm.ParseOption) (ds dcm.Dataset, info *walkInfo, err error) {
	r, size, ok := withFileMeta(r, size)
	if !ok {
		return ds, nil, ErrNotDICOM
	}
	info, err = checkAndPatch(r, size)
	if err != nil {
		return ds, nil, fmt.Errorf("%w: %v", ErrNotDICOM, err)
	}
	if len(info.patches) > 0 {
		r = &patchedReader{r: r, patches: info.patches}
	}
	if holes && len(info.pixels) > 0 {
		r = &holeReader{r: r, holes: info.pixels}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: parser panic: %v", ErrNotDICOM, p)
		}
	}()
	opts = append(opts, dcm.AllowUnknownSpecificCharacterSet())
	ds, err = dcm.Parse(io.NewSectionReader(r, 0, size), size, nil, opts...)
	if err != nil {
		return ds, nil, fmt.Errorf("%w: %v", ErrNotDICOM, err)
	}
	info.resolvedUN = ResolveUN(ds.Elements)
	if _, err := ds.FindElementByTag(tag.SOPInstanceUID); err != nil {
		return ds, nil, ErrMissingUID
	}
	return ds, info, nil
}

// ResolveUN gives each element stored as UN whose tag the dictionary knows
// the dictionary's VR and the value read as that VR (PS3.5 6.2.2: a UN
// value is the value's little endian, implicit VR encoding), at any depth.
// Files converted from implicit VR by a tool that did not know the tags
// store SOP Class UID, Modality and the rest this way. Values of private,
// unknown, ambiguous (US or SS) and binary VRs stay bytes. It returns the
// number of elements resolved.
func ResolveUN(els []*dcm.Element) (n int) {
	for _, e := range els {
		if e == nil || e.Value == nil {
			continue
		}
		if e.Value.ValueType() == dcm.Sequences {
			for _, it := range e.Value.GetValue().([]*dcm.SequenceItemValue) {
				if sub, ok := it.GetValue().([]*dcm.Element); ok {
					n += ResolveUN(sub)
				}
			}
			continue
		}
		if e.RawValueRepresentation != "UN" || tag.IsPrivate(e.Tag.Group) {
			continue
		}
		raw, ok := e.Value.GetValue().([]byte)
		if !ok {
			continue
		}
		vr, ok := DictionaryVR(e.Tag)
		if !ok {
			continue
		}
		if v, ok := decodeUN(vr, raw); ok {
			if nv, err := dcm.NewValue(v); err == nil {
				e.Value = nv
				e.RawValueRepresentation = vr
				n++
			}
		}
	}
	return n
}

// DictionaryVR is the one VR the dictionary gives t (false for unknown
// tags and tags with a choice of VRs).
func DictionaryVR(t tag.Tag) (string, bool) {
	info, err := tag.Find(t)
	if err != nil || len(info.VRs) != 1 || info.VRs[0] == "UN" {
		return "", false
	}
	return info.VRs[0], true
}

// decodeUN reads raw (little endian) as a value of vr.
func decodeUN(vr string, raw []byte) (any, bool) {
	switch vr {
	case "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "PN", "SH", "TM", "UC", "UI":
		vals := strings.Split(string(raw), `\`)
		for i, v := range vals {
			vals[i] = strings.TrimRight(v, " \x00")
		}
		return vals, true
	case "LT", "ST", "UT", "UR":
		return []string{strings.TrimRight(string(raw), " \x00")}, true
	case "US", "SS", "UL", "SL":
		n := 2
		if vr == "UL" || vr == "SL" {
			n = 4
		}
		if len(raw)%n != 0 {
			return nil, false
		}
		out := make([]int, 0, len(raw)/n)
		for i := 0; i < len(raw); i += n {
			switch vr {
			case "US":
				out = append(out, int(binary.LittleEndian.Uint16(raw[i:])))
			case "SS":
				out = append(out, int(int16(binary.LittleEndian.Uint16(raw[i:]))))
			case "UL":
				out = append(out, int(binary.LittleEndian.Uint32(raw[i:])))
			case "SL":
				out = append(out, int(int32(binary.LittleEndian.Uint32(raw[i:]))))
			}
		}
		return out, true
	case "FL", "FD":
		n := 4
		if vr == "FD" {
			n = 8
		}
		if len(raw)%n != 0 {
			return nil, false
		}
		out := make([]float64, 0, len(raw)/n)
		for i := 0; i < len(raw); i += n {
			if n == 4 {
				out = append(out, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))))
			} else {
				out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
			}
		}
		return out, true
	}
	return nil, false
}

var uidRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

func validUID(s string) bool { return len(s) <= 64 && uidRe.MatchString(s) }

func metaFrom(ds dcm.Dataset) *Meta {
	m := &Meta{
		TransferSyntax:      str(ds, tag.TransferSyntaxUID),
		SOPClassUID:         str(ds, tag.SOPClassUID),
		SOPInstanceUID:      str(ds, tag.SOPInstanceUID),
		StudyUID:            str(ds, tag.StudyInstanceUID),
		SeriesUID:           str(ds, tag.SeriesInstanceUID),
		PatientID:           clip(str(ds, tag.PatientID), 64),
		PatientName:         ParsePersonName(str(ds, tag.PatientName)),
		BirthDate:           ParseDate(str(ds, tag.PatientBirthDate)),
		Sex:                 clip(strings.ToUpper(str(ds, tag.PatientSex)), 16),
		StudyDate:           ParseDate(str(ds, tag.StudyDate)),
		StudyTime:           clip(str(ds, tag.StudyTime), 16),
		Accession:           clip(str(ds, tag.AccessionNumber), 64),
		StudyDescription:    clip(str(ds, tag.StudyDescription), 200),
		ReferringPhysician:  PersonNameString(str(ds, tag.ReferringPhysicianName)),
		Modality:            clip(str(ds, tag.Modality), 16),
		SeriesNumber:        intPtr(ds, tag.SeriesNumber),
		SeriesDescription:   clip(str(ds, tag.SeriesDescription), 200),
		BodyPart:            clip(str(ds, tag.BodyPartExamined), 64),
		InstanceNumber:      intPtr(ds, tag.InstanceNumber),
		Rows:                num(ds, tag.Rows, 0),
		Columns:             num(ds, tag.Columns, 0),
		Frames:              num(ds, tag.NumberOfFrames, 1),
		SamplesPerPixel:     num(ds, tag.SamplesPerPixel, 1),
		BitsAllocated:       num(ds, tag.BitsAllocated, 0),
		BitsStored:          num(ds, tag.BitsStored, 0),
		HighBit:             num(ds, tag.HighBit, -1),
		PixelRepresentation: num(ds, tag.PixelRepresentation, 0),
		PlanarConfiguration: num(ds, tag.PlanarConfiguration, 0),
		Photometric:         strings.ToUpper(str(ds, tag.PhotometricInterpretation)),
		RescaleSlope:        flt(ds, tag.RescaleSlope, 1),
		RescaleIntercept:    flt(ds, tag.RescaleIntercept, 0),
		WindowCenter:        clip(strings.Join(strs(ds, tag.WindowCenter), `\`), 200),
		WindowWidth:         clip(strings.Join(strs(ds, tag.WindowWidth), `\`), 200),
	}
	if _, err := ds.FindElementByTag(tag.PixelData); err == nil {
		m.HasPixelData = true
	}
	m.BurnedIn = burnedIn(ds)
	m.PixelAspect = pixelAspect(ds)
	functionalGroups(ds, m)
	if m.Frames < 1 {
		m.Frames = 1
	}
	if m.BitsStored == 0 {
		m.BitsStored = m.BitsAllocated
	}
	if m.HighBit < 0 {
		m.HighBit = m.BitsStored - 1
	}
	if m.RescaleSlope == 0 {
		m.RescaleSlope = 1
	}
	return m
}

// strs returns the values of a top-level element as strings ("" values dropped).
func strs(ds dcm.Dataset, t tag.Tag) []string {
	e, err := ds.FindElementByTag(t)
	if err != nil || e.Value == nil {
		return nil
	}
	var out []string
	switch v := e.Value.GetValue().(type) {
	case []string:
		for _, s := range v {
			if s = strings.Trim(s, " \x00"); s != "" {
				out = append(out, s)
			}
		}
	case []int:
		for _, i := range v {
			out = append(out, strconv.Itoa(i))
		}
	case []float64:
		for _, f := range v {
			out = append(out, strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
	return out
}

func str(ds dcm.Dataset, t tag.Tag) string {
	if v := strs(ds, t); len(v) > 0 {
		return v[0]
	}
	return ""
}

func num(ds dcm.Dataset, t tag.Tag, def int) int {
	if p := intPtr(ds, t); p != nil {
		return *p
	}
	return def
}

func intPtr(ds dcm.Dataset, t tag.Tag) *int {
	s := str(ds, t)
	if s == "" {
		return nil
	}
	i, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		f, ferr := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if ferr != nil {
			return nil
		}
		i = int(f)
	}
	return &i
}

func flt(ds dcm.Dataset, t tag.Tag, def float64) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(str(ds, t)), 64)
	if err != nil {
		return def
	}
	return f
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// ParsePersonName splits a PN value "Family^Given^Middle^Prefix^Suffix",
// keeping the alphabetic group (before any "=" ideographic/phonetic groups).
func ParsePersonName(v string) PersonName {
	if i := strings.IndexByte(v, '='); i >= 0 {
		v = v[:i]
	}
	parts := strings.SplitN(v, "^", 5)
	for len(parts) < 5 {
		parts = append(parts, "")
	}
	t := func(s string) string { return clip(strings.TrimSpace(s), 100) }
	return PersonName{Family: t(parts[0]), Given: t(parts[1]), Middle: t(parts[2]), Prefix: t(parts[3]), Suffix: t(parts[4])}
}

// PersonNameString renders a PN for display: "Prefix Given Middle Family Suffix".
func PersonNameString(v string) string {
	p := ParsePersonName(v)
	var out []string
	for _, s := range []string{p.Prefix, p.Given, p.Middle, p.Family, p.Suffix} {
		if s != "" {
			out = append(out, s)
		}
	}
	return clip(strings.Join(out, " "), 200)
}

// ParseDate reads a DA value (YYYYMMDD, or the old YYYY.MM.DD); nil when absent or wrong.
func ParseDate(v string) *time.Time {
	v = strings.ReplaceAll(strings.TrimSpace(v), ".", "")
	if len(v) != 8 {
		return nil
	}
	t, err := time.Parse("20060102", v)
	if err != nil || t.Year() < 1800 {
		return nil
	}
	return &t
}

// pixelAspect is row spacing / column spacing (PS3.3 C.7.6.3.1.7: Pixel
// Spacing is `row\column`, i.e. vertical then horizontal), else the
// Pixel Aspect Ratio `vertical\horizontal`; 1 when absent or implausible.
func pixelAspect(ds dcm.Dataset) float64 {
	for _, t := range []tag.Tag{tag.PixelSpacing, tag.ImagerPixelSpacing, tag.PixelAspectRatio} {
		v := strs(ds, t)
		if len(v) != 2 {
			continue
		}
		a, err1 := strconv.ParseFloat(strings.TrimSpace(v[0]), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(v[1]), 64)
		if err1 != nil || err2 != nil || a <= 0 || b <= 0 {
			continue
		}
		r := a / b
		if r < 0.1 || r > 10 || math.IsNaN(r) {
			return 1
		}
		if math.Abs(r-1) < 0.01 {
			return 1
		}
		return r
	}
	return 1
}
