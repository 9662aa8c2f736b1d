package dicom

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"strconv"
	"strings"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/frame"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Synth describes a synthetic instance. Tests and the import benchmark use
// it to cover pixel layouts the six sample files do not (signed, 12-bit, RGB
// planar, MONOCHROME1…) and character sets.
type Synth struct {
	StudyUID, SeriesUID, SOPUID string
	CharSet                     string // Specific Character Set, e.g. "ISO_IR 100"
	PatientID                   string
	PatientName                 string // raw bytes as stored in the file
	BirthDate                   string
	Modality                    string
	Rows, Cols, Frames          int
	BitsAllocated, BitsStored   int
	Signed                      bool
	Photometric                 string
	SamplesPerPixel, Planar     int
	Slope, Intercept            string
	WindowCenter, WindowWidth   string
	TransferSyntax              string // default explicit VR little endian
	PixelSpacing                string // `row\column` in mm, e.g. `0.5\0.25`; "" for none
	// JPEGSize, when set, encodes baseline JPEG frames at this size instead
	// of Cols x Rows (a file whose pixel data disagrees with its header).
	JPEGSize image.Point
	// JPEGQuality of baseline JPEG frames (95 when 0).
	JPEGQuality int
	// Pixel gives sample s of pixel i of frame f as a stored value
	// (negative allowed when Signed).
	Pixel func(f, i, s int) int
	// Raw, when set, is written as the pixel data as is (e.g. bit-packed
	// BitsAllocated 1 or YBR_FULL_422 samples); Pixel is then unused.
	Raw []byte
	// SOPClassUID defaults to Secondary Capture Image Storage.
	SOPClassUID string
	// Extra are further top-level attributes; one with the tag of a default
	// attribute (StudyDate, SeriesNumber, ...) replaces it.
	Extra []Attr
}

// Attr is one attribute of Synth.Extra: Tag is 0xGGGGEEEE, Value a
// []string or []int as the attribute's VR needs.
type Attr struct {
	Tag   uint32
	Value any
}

// synthImplementation is the Implementation Class UID of Synth's files.
var synthImplementation = DerivedUID("radpass", "dicom.Synth")

// Transfer syntaxes Synth writes pixel data in.
const (
	TSExplicitLE   = tsExplicitLE
	TSRLE          = tsRLE      // RLE Lossless, 8 or 16 bits, one sample per pixel
	TSJPEGBaseline = tsJPEGBase // 8-bit grey baseline JPEG
)

// Bytes writes the instance as a DICOM Part 10 file.
func (s Synth) Bytes() ([]byte, error) {
	if s.Frames == 0 {
		s.Frames = 1
	}
	if s.SamplesPerPixel == 0 {
		s.SamplesPerPixel = 1
	}
	if s.BitsStored == 0 {
		s.BitsStored = s.BitsAllocated
	}
	if s.Photometric == "" {
		s.Photometric = "MONOCHROME2"
	}
	if s.TransferSyntax == "" {
		s.TransferSyntax = tsExplicitLE
	}
	if s.Modality == "" {
		s.Modality = "OT"
	}
	sopClass := s.SOPClassUID
	if sopClass == "" {
		sopClass = "1.2.840.10008.5.1.4.1.1.7" // Secondary Capture
	}
	var els []*dcm.Element
	add := func(t tag.Tag, v any) {
		e, err := dcm.NewElement(t, v)
		if err != nil {
			panic(fmt.Sprintf("synth element %v: %v", t, err))
		}
		els = append(els, e)
	}
	add(tag.FileMetaInformationVersion, []byte{0, 1})
	add(tag.MediaStorageSOPClassUID, []string{sopClass})
	add(tag.MediaStorageSOPInstanceUID, []string{s.SOPUID})
	add(tag.TransferSyntaxUID, []string{s.TransferSyntax})
	add(tag.ImplementationClassUID, []string{synthImplementation})
	if s.CharSet != "" {
		add(tag.SpecificCharacterSet, []string{s.CharSet})
	}
	add(tag.SOPClassUID, []string{sopClass})
	add(tag.SOPInstanceUID, []string{s.SOPUID})
	add(tag.StudyDate, []string{"20260102"})
	add(tag.Modality, []string{s.Modality})
	add(tag.PatientName, []string{s.PatientName})
	add(tag.PatientID, []string{s.PatientID})
	if s.BirthDate != "" {
		add(tag.PatientBirthDate, []string{s.BirthDate})
	}
	add(tag.StudyInstanceUID, []string{s.StudyUID})
	add(tag.SeriesInstanceUID, []string{s.SeriesUID})
	add(tag.SeriesNumber, []string{"1"})
	add(tag.InstanceNumber, []string{"1"})
	add(tag.SamplesPerPixel, []int{s.SamplesPerPixel})
	add(tag.PhotometricInterpretation, []string{s.Photometric})
	if s.SamplesPerPixel > 1 {
		add(tag.PlanarConfiguration, []int{s.Planar})
	}
	if s.Frames > 1 || s.SOPClassUID == "" {
		// Single-frame IODs have no Number of Frames; the default class keeps it.
		add(tag.NumberOfFrames, []string{strconv.Itoa(s.Frames)})
	}
	if s.PixelSpacing != "" {
		add(tag.PixelSpacing, strings.Split(s.PixelSpacing, `\`))
	}
	add(tag.Rows, []int{s.Rows})
	add(tag.Columns, []int{s.Cols})
	add(tag.BitsAllocated, []int{s.BitsAllocated})
	add(tag.BitsStored, []int{s.BitsStored})
	add(tag.HighBit, []int{max(s.BitsStored-1, 0)})
	rep := 0
	if s.Signed {
		rep = 1
	}
	add(tag.PixelRepresentation, []int{rep})
	if s.WindowCenter != "" {
		add(tag.WindowCenter, []string{s.WindowCenter})
		add(tag.WindowWidth, []string{s.WindowWidth})
	}
	if s.Slope != "" {
		add(tag.RescaleIntercept, []string{s.Intercept})
		add(tag.RescaleSlope, []string{s.Slope})
	}
	n := s.Rows * s.Cols
	mask := 1<<uint(s.BitsStored) - 1
	// at maps a raw sample index to (pixel, sample): interleaved, or plane by plane.
	at := func(k int) (int, int) {
		if s.Planar == 1 && s.SamplesPerPixel > 1 {
			return k % n, k / n
		}
		return k / s.SamplesPerPixel, k % s.SamplesPerPixel
	}
	if err := s.addExtra(&els); err != nil {
		return nil, err
	}
	if s.Raw != nil {
		add(tag.PixelData, dcm.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: s.Raw})
		var buf bytes.Buffer
		if err := dcm.Write(&buf, dcm.Dataset{Elements: els}, dcm.SkipVRVerification()); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	var frames []*frame.Frame
	for f := 0; f < s.Frames && s.TransferSyntax != tsJPEGBase; f++ {
		fr := &frame.Frame{}
		switch s.BitsAllocated {
		case 8:
			nf := frame.NewNativeFrame[uint8](8, s.Rows, s.Cols, n, s.SamplesPerPixel)
			for i := range nf.RawData {
				p, c := at(i)
				nf.RawData[i] = uint8(s.Pixel(f, p, c) & mask)
			}
			fr.NativeData = nf
		case 16:
			nf := frame.NewNativeFrame[uint16](16, s.Rows, s.Cols, n, s.SamplesPerPixel)
			for i := range nf.RawData {
				p, c := at(i)
				nf.RawData[i] = uint16(s.Pixel(f, p, c) & mask)
			}
			fr.NativeData = nf
		case 32:
			nf := frame.NewNativeFrame[uint32](32, s.Rows, s.Cols, n, s.SamplesPerPixel)
			for i := range nf.RawData {
				p, c := at(i)
				nf.RawData[i] = uint32(s.Pixel(f, p, c) & mask)
			}
			fr.NativeData = nf
		default:
			return nil, fmt.Errorf("synth: %d bits allocated not supported", s.BitsAllocated)
		}
		frames = append(frames, fr)
	}
	if s.TransferSyntax == tsRLE {
		var enc []*frame.Frame
		for _, fr := range frames {
			b, err := encodeRLE(fr.NativeData, s.Rows, s.Cols, s.BitsAllocated, s.SamplesPerPixel)
			if err != nil {
				return nil, err
			}
			enc = append(enc, &frame.Frame{Encapsulated: true, EncapsulatedData: frame.EncapsulatedFrame{Data: b}})
		}
		e, err := dcm.NewElement(tag.PixelData, dcm.PixelDataInfo{IsEncapsulated: true, Frames: enc})
		if err != nil {
			return nil, err
		}
		e.RawValueRepresentation = "OB"
		e.ValueLength = tag.VLUndefinedLength
		els = append(els, e)
	} else if s.TransferSyntax == tsJPEGBase {
		// Encapsulated baseline JPEG, one fragment per frame (8-bit grey).
		var enc []*frame.Frame
		for f := 0; f < s.Frames; f++ {
			size := image.Pt(s.Cols, s.Rows)
			if s.JPEGSize != (image.Point{}) {
				size = s.JPEGSize
			}
			g := image.NewGray(image.Rectangle{Max: size})
			for i := range g.Pix {
				g.Pix[i] = uint8(s.Pixel(f, i%(s.Cols*s.Rows), 0))
			}
			var jb bytes.Buffer
			q := s.JPEGQuality
			if q == 0 {
				q = 95
			}
			if err := jpeg.Encode(&jb, g, &jpeg.Options{Quality: q}); err != nil {
				return nil, err
			}
			if jb.Len()%2 == 1 {
				jb.WriteByte(0)
			}
			enc = append(enc, &frame.Frame{Encapsulated: true, EncapsulatedData: frame.EncapsulatedFrame{Data: jb.Bytes()}})
		}
		e, err := dcm.NewElement(tag.PixelData, dcm.PixelDataInfo{IsEncapsulated: true, Frames: enc})
		if err != nil {
			return nil, err
		}
		e.RawValueRepresentation = "OB"
		e.ValueLength = tag.VLUndefinedLength
		els = append(els, e)
	} else {
		add(tag.PixelData, dcm.PixelDataInfo{Frames: frames})
	}
	var buf bytes.Buffer
	if err := dcm.Write(&buf, dcm.Dataset{Elements: els}, dcm.SkipVRVerification()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// addExtra merges s.Extra into els (replacing attributes of the same tag)
// and leaves els in tag order, as Part 10 requires.
func (s Synth) addExtra(els *[]*dcm.Element) error {
	for _, a := range s.Extra {
		t := tag.Tag{Group: uint16(a.Tag >> 16), Element: uint16(a.Tag)}
		e, err := dcm.NewElement(t, a.Value)
		if err != nil {
			return fmt.Errorf("synth element %v: %w", t, err)
		}
		replaced := false
		for i, old := range *els {
			if old.Tag == t {
				(*els)[i], replaced = e, true
			}
		}
		if !replaced {
			*els = append(*els, e)
		}
	}
	sortElements(*els)
	return nil
}

// encodeRLE encodes one native frame as RLE Lossless (PS3.5 Annex G): a
// 64-byte header, then one PackBits segment per byte plane, most
// significant byte first, each row encoded on its own, each segment of
// even length.
func encodeRLE(native any, rows, cols, bits, spp int) ([]byte, error) {
	if spp != 1 || (bits != 8 && bits != 16) {
		return nil, fmt.Errorf("synth: RLE of %d samples of %d bits not supported", spp, bits)
	}
	n := rows * cols
	var planes [][]byte
	switch nf := native.(type) {
	case *frame.NativeFrame[uint8]:
		planes = [][]byte{nf.RawData[:n]}
	case *frame.NativeFrame[uint16]:
		hi, lo := make([]byte, n), make([]byte, n)
		for i, v := range nf.RawData[:n] {
			hi[i], lo[i] = byte(v>>8), byte(v)
		}
		planes = [][]byte{hi, lo}
	default:
		return nil, fmt.Errorf("synth: RLE of %T not supported", native)
	}
	out := make([]byte, 64, 64+n)
	out[0] = byte(len(planes))
	for p, plane := range planes {
		off := len(out)
		out[4+4*p], out[5+4*p], out[6+4*p], out[7+4*p] = byte(off), byte(off>>8), byte(off>>16), byte(off>>24)
		for r := 0; r < rows; r++ {
			out = packBits(out, plane[r*cols:(r+1)*cols])
		}
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
	}
	return out, nil
}

// packBits appends the PackBits encoding of row to dst: runs of 2 to 128
// equal bytes as a replicate run, the rest as literal runs of up to 128.
func packBits(dst, row []byte) []byte {
	for i := 0; i < len(row); {
		j := i + 1
		for j < len(row) && j-i < 128 && row[j] == row[i] {
			j++
		}
		if j-i >= 2 {
			dst = append(dst, byte(1-(j-i)), row[i]) // -(count-1) as int8
			i = j
			continue
		}
		// A literal run up to the next pair of equal bytes.
		j = i + 1
		for j < len(row) && j-i < 128 && (j+1 >= len(row) || row[j] != row[j+1]) {
			j++
		}
		dst = append(dst, byte(j-i-1))
		dst = append(dst, row[i:j]...)
		i = j
	}
	return dst
}
