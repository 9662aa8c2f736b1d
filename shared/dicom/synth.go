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
	// Pixel gives sample s of pixel i of frame f as a stored value
	// (negative allowed when Signed).
	Pixel func(f, i, s int) int
	// Raw, when set, is written as the pixel data as is (e.g. bit-packed
	// BitsAllocated 1 or YBR_FULL_422 samples); Pixel is then unused.
	Raw []byte
}

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
	const secondaryCapture = "1.2.840.10008.5.1.4.1.1.7"
	var els []*dcm.Element
	add := func(t tag.Tag, v any) {
		e, err := dcm.NewElement(t, v)
		if err != nil {
			panic(fmt.Sprintf("synth element %v: %v", t, err))
		}
		els = append(els, e)
	}
	add(tag.MediaStorageSOPClassUID, []string{secondaryCapture})
	add(tag.MediaStorageSOPInstanceUID, []string{s.SOPUID})
	add(tag.TransferSyntaxUID, []string{s.TransferSyntax})
	if s.CharSet != "" {
		add(tag.SpecificCharacterSet, []string{s.CharSet})
	}
	add(tag.SOPClassUID, []string{secondaryCapture})
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
	add(tag.NumberOfFrames, []string{strconv.Itoa(s.Frames)})
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
	if s.Raw != nil {
		add(tag.PixelData, dcm.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: s.Raw})
		var buf bytes.Buffer
		if err := dcm.Write(&buf, dcm.Dataset{Elements: els}, dcm.SkipVRVerification()); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	var frames []*frame.Frame
	for f := 0; f < s.Frames; f++ {
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
	if s.TransferSyntax == tsJPEGBase {
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
			if err := jpeg.Encode(&jb, g, &jpeg.Options{Quality: 95}); err != nil {
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
