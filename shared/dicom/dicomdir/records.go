package dicomdir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Key is one more key of an instance's lower-level record: a whole
// element (tag, VR, length, value) in explicit VR little endian.
type Key struct {
	Tag tag.Tag
	Raw []byte
	// Text marks a key with non-ASCII text (the record then declares UTF-8).
	Text bool
}

// recordTypes maps the SOP classes with a record type of their own below
// a SERIES record (PS3.3 F.5, F.4 Table F.4-1) to it. Classes not listed
// are IMAGE when they hold pixel data, PRIVATE otherwise; that includes
// the patient-less classes whose records sit at the root (HANGING
// PROTOCOL, PALETTE, IMPLANT...), which a study's download never holds
// as such.
var recordTypes = map[string]string{
	"1.2.840.10008.5.1.4.1.1.481.2":    "RT DOSE",
	"1.2.840.10008.5.1.4.1.1.481.3":    "RT STRUCTURE SET",
	"1.2.840.10008.5.1.4.1.1.481.5":    "RT PLAN",
	"1.2.840.10008.5.1.4.1.1.481.8":    "RT PLAN", // RT Ion Plan
	"1.2.840.10008.5.1.4.1.1.481.4":    "RT TREAT RECORD",
	"1.2.840.10008.5.1.4.1.1.481.6":    "RT TREAT RECORD",
	"1.2.840.10008.5.1.4.1.1.481.7":    "RT TREAT RECORD",
	"1.2.840.10008.5.1.4.1.1.481.9":    "RT TREAT RECORD",
	"1.2.840.10008.5.1.4.1.1.11.1":     "PRESENTATION",
	"1.2.840.10008.5.1.4.1.1.11.2":     "PRESENTATION",
	"1.2.840.10008.5.1.4.1.1.11.3":     "PRESENTATION",
	"1.2.840.10008.5.1.4.1.1.11.4":     "PRESENTATION",
	"1.2.840.10008.5.1.4.1.1.11.5":     "PRESENTATION",
	"1.2.840.10008.5.1.4.1.1.131":      "PRESENTATION", // Basic Structured Display
	"1.2.840.10008.5.1.4.1.1.88.59":    "KEY OBJECT DOC",
	"1.2.840.10008.5.1.4.1.1.4.2":      "SPECTROSCOPY",
	"1.2.840.10008.5.1.4.1.1.66":       "RAW DATA",
	"1.2.840.10008.5.1.4.1.1.66.1":     "REGISTRATION",
	"1.2.840.10008.5.1.4.1.1.66.3":     "REGISTRATION",
	"1.2.840.10008.5.1.4.1.1.66.2":     "FIDUCIAL",
	"1.2.840.10008.5.1.4.1.1.66.5":     "SURFACE",
	"1.2.840.10008.5.1.4.1.1.66.6":     "TRACT",
	"1.2.840.10008.5.1.4.1.1.67":       "VALUE MAP",
	"1.2.840.10008.5.1.4.1.1.68.1":     "SURFACE SCAN",
	"1.2.840.10008.5.1.4.1.1.68.2":     "SURFACE SCAN",
	"1.2.840.10008.5.1.4.1.1.90.1":     "ASSESSMENT",
	"1.2.840.10008.5.1.4.1.1.79.1":     "SR DOCUMENT", // Macular Grid Thickness and Volume Report
	"1.2.840.10008.5.1.4.1.1.80.1":     "MEASUREMENT", // Visual Field Static Perimetry
	"1.2.840.10008.5.1.4.1.1.77.1.5.3": "STEREOMETRIC",
}

// recordTypePrefixes: whole families of classes.
var recordTypePrefixes = []struct{ prefix, typ string }{
	{"1.2.840.10008.5.1.4.1.1.88.", "SR DOCUMENT"},
	{"1.2.840.10008.5.1.4.1.1.9.", "WAVEFORM"},
	{"1.2.840.10008.5.1.4.1.1.104.", "ENCAP DOC"},
	{"1.2.840.10008.5.1.4.1.1.78.", "MEASUREMENT"}, // ophthalmic refractive and axial measurements
}

// RecordType is the directory record type for a SOP class: its own type
// where PS3.3 F.5 defines one, IMAGE otherwise (see RecordTypeFor).
func RecordType(sopClass string) string {
	if t := knownType(sopClass); t != "" {
		return t
	}
	return "IMAGE"
}

// RecordTypeFor is RecordType for an instance: a class without a record
// type of its own is IMAGE when the instance has pixel data, else PRIVATE.
func RecordTypeFor(sopClass string, hasPixels bool) string {
	if t := knownType(sopClass); t != "" {
		return t
	}
	if hasPixels {
		return "IMAGE"
	}
	return "PRIVATE"
}

func knownType(sopClass string) string {
	if t, ok := recordTypes[sopClass]; ok {
		return t
	}
	for _, p := range recordTypePrefixes {
		if strings.HasPrefix(sopClass, p.prefix) {
			return p.typ
		}
	}
	return ""
}

// keySpec is one key of a record type: its tag and its type (1, 1C, 2, 3).
type keySpec struct {
	tag tag.Tag
	typ string
}

func t(g, e uint16) tag.Tag { return tag.Tag{Group: g, Element: e} }

var (
	instanceNumber   = t(0x0020, 0x0013)
	contentDate      = t(0x0008, 0x0023)
	contentTime      = t(0x0008, 0x0033)
	conceptName      = t(0x0040, 0xA043)
	contentLabel     = t(0x0070, 0x0080)
	contentDesc      = t(0x0070, 0x0081)
	contentCreator   = t(0x0070, 0x0084)
	verificationFlag = t(0x0040, 0xA493)
	verifyingSeq     = t(0x0040, 0xA073)
	verificationDT   = t(0x0040, 0xA030)
	privateRecordUID = t(0x0004, 0x1432)
)

// contentID: the Content Identification Macro with Content Date and Time.
var contentID = []keySpec{{contentDate, "1"}, {contentTime, "1"}, {instanceNumber, "1"}, {contentLabel, "1"}, {contentDesc, "2"}, {contentCreator, "2"}}

// recordKeys are the keys of each lower-level record type (PS3.3 F.5),
// besides the referenced file's UIDs. Instance Number, type 1 in most of
// them and type 2 in the files, is invented when the file has none (as
// dcmmkdir +I does); any other type 1 key the file lacks refuses the file.
var recordKeys = map[string][]keySpec{
	"IMAGE":            {{instanceNumber, "1"}},
	"RT DOSE":          {{instanceNumber, "1"}, {t(0x3004, 0x000A), "1"}, {t(0x3004, 0x0006), "3"}},
	"RT STRUCTURE SET": {{instanceNumber, "1"}, {t(0x3006, 0x0002), "1"}, {t(0x3006, 0x0008), "2"}, {t(0x3006, 0x0009), "2"}},
	"RT PLAN":          {{instanceNumber, "1"}, {t(0x300A, 0x0002), "1"}, {t(0x300A, 0x0006), "2"}, {t(0x300A, 0x0007), "2"}},
	"RT TREAT RECORD":  {{instanceNumber, "1"}, {t(0x3008, 0x0250), "2"}, {t(0x3008, 0x0251), "2"}},
	"PRESENTATION": {{instanceNumber, "1"}, {contentLabel, "1"}, {contentDesc, "2"}, {t(0x0070, 0x0082), "1"}, {t(0x0070, 0x0083), "1"},
		{contentCreator, "2"}, {t(0x0008, 0x1115), "1C"}, {t(0x0070, 0x0402), "1C"}},
	"SR DOCUMENT": {{instanceNumber, "1"}, {t(0x0040, 0xA491), "1"}, {verificationFlag, "1"}, {contentDate, "1"}, {contentTime, "1"},
		{conceptName, "1"}},
	"KEY OBJECT DOC": {{instanceNumber, "1"}, {contentDate, "1"}, {contentTime, "1"}, {conceptName, "1"}},
	"WAVEFORM":       {{instanceNumber, "1"}, {contentDate, "1"}, {contentTime, "1"}},
	"SPECTROSCOPY": {{t(0x0008, 0x0008), "1"}, {contentDate, "1"}, {contentTime, "1"}, {t(0x0008, 0x9092), "1C"}, {t(0x0028, 0x0008), "1"},
		{t(0x0028, 0x0010), "1"}, {t(0x0028, 0x0011), "1"}, {t(0x0028, 0x9001), "1"}, {t(0x0028, 0x9002), "1"}, {instanceNumber, "1"}},
	"RAW DATA": {{contentDate, "1"}, {contentTime, "1"}, {instanceNumber, "2"}},
	"ENCAP DOC": {{contentDate, "2"}, {contentTime, "2"}, {instanceNumber, "1"}, {t(0x0042, 0x0010), "2"}, {t(0x0040, 0xE001), "1C"},
		{conceptName, "2"}, {t(0x0042, 0x0012), "1"}},
	"REGISTRATION": contentID,
	"FIDUCIAL":     contentID,
	"VALUE MAP":    contentID,
	"SURFACE":      contentID,
	"TRACT":        contentID,
	"MEASUREMENT":  contentID,
	"SURFACE SCAN": {{contentDate, "1"}, {contentTime, "1"}, {instanceNumber, "1"}},
	"ASSESSMENT":   {{instanceNumber, "1"}, {t(0x0008, 0x0012), "1"}},
	"STEREOMETRIC": {},
	"PRIVATE":      {},
}

// ErrMissingKey: the file lacks a value the DICOMDIR must carry (a type 1
// key of its record type other than a number).
var ErrMissingKey = errors.New("dicomdir: the file lacks a required key of its directory record")

// FromDataset reads the keys of an instance's records from its own data
// set (ds: the file as it will be written, file meta group included;
// pixel data may be skipped). fileID is the file's path in the file-set.
func FromDataset(ds *dcm.Dataset, fileID []string) (Instance, error) {
	s := func(tg tag.Tag) string { return stringOf(ds, tg) }
	in := Instance{
		FileID:           fileID,
		PatientID:        s(tag.PatientID),
		PatientName:      s(tag.PatientName),
		StudyUID:         s(tag.StudyInstanceUID),
		StudyDate:        s(tag.StudyDate),
		StudyTime:        s(tag.StudyTime),
		StudyDescription: s(tag.StudyDescription),
		StudyID:          s(tag.StudyID),
		Accession:        s(tag.AccessionNumber),
		SeriesUID:        s(tag.SeriesInstanceUID),
		Modality:         s(tag.Modality),
		SeriesNumber:     s(tag.SeriesNumber),
		SOPClassUID:      s(tag.SOPClassUID),
		SOPInstanceUID:   s(tag.SOPInstanceUID),
		TransferSyntax:   s(tag.TransferSyntaxUID),
		InstanceNumber:   s(tag.InstanceNumber),
	}
	if in.StudyDate == "" {
		// As dcmmkdir: the series, acquisition or content date stands in.
		for _, tg := range []tag.Tag{tag.SeriesDate, tag.AcquisitionDate, contentDate} {
			if in.StudyDate = s(tg); in.StudyDate != "" {
				break
			}
		}
	}
	_, err := ds.FindElementByTag(tag.PixelData)
	in.RecordType = RecordTypeFor(in.SOPClassUID, err == nil)
	if in.RecordType == "PRIVATE" {
		k, err := encode(&dcm.Element{Tag: privateRecordUID, RawValueRepresentation: "UI", Value: mustValue([]string{in.SOPClassUID})})
		if err != nil {
			return in, err
		}
		in.Keys = append(in.Keys, k)
	}
	for _, spec := range recordKeys[in.RecordType] {
		if spec.tag == instanceNumber {
			continue // Instance.InstanceNumber
		}
		e, err := ds.FindElementByTag(spec.tag)
		has := err == nil && hasValue(e)
		switch {
		case has:
		case spec.typ == "1":
			return in, fmt.Errorf("%w: %s %v", ErrMissingKey, in.RecordType, spec.tag)
		case spec.typ == "2":
			e = emptyElement(spec.tag)
			if e == nil {
				continue
			}
		default:
			continue
		}
		k, err := encode(e)
		if err != nil {
			return in, err
		}
		in.Keys = append(in.Keys, k)
	}
	if in.RecordType == "PRESENTATION" {
		// Referenced Series Sequence or Blending Sequence (1C): one of them.
		_, err1 := ds.FindElementByTag(t(0x0008, 0x1115))
		_, err2 := ds.FindElementByTag(t(0x0070, 0x0402))
		if err1 != nil && err2 != nil {
			return in, fmt.Errorf("%w: PRESENTATION referenced series", ErrMissingKey)
		}
	}
	if in.RecordType == "SR DOCUMENT" && strings.EqualFold(s(verificationFlag), "VERIFIED") {
		// Verification DateTime (1C): of the last verifying observer.
		e, err := ds.FindElementByTag(verifyingSeq)
		if err != nil {
			return in, fmt.Errorf("%w: SR DOCUMENT verifying observer", ErrMissingKey)
		}
		items, _ := e.Value.GetValue().([]*dcm.SequenceItemValue)
		if len(items) == 0 {
			return in, fmt.Errorf("%w: SR DOCUMENT verifying observer", ErrMissingKey)
		}
		last := dcm.Dataset{Elements: items[len(items)-1].GetValue().([]*dcm.Element)}
		v, err := last.FindElementByTag(verificationDT)
		if err != nil || !hasValue(v) {
			return in, fmt.Errorf("%w: SR DOCUMENT verification date", ErrMissingKey)
		}
		k, err := encode(v)
		if err != nil {
			return in, err
		}
		in.Keys = append(in.Keys, k)
	}
	sort.Slice(in.Keys, func(i, j int) bool { return in.Keys[i].Tag.Compare(in.Keys[j].Tag) < 0 })
	return in, nil
}

// stringOf is the first value of a string element ("" if absent).
func stringOf(ds *dcm.Dataset, tg tag.Tag) string {
	e, err := ds.FindElementByTag(tg)
	if err != nil || e.Value == nil {
		return ""
	}
	if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 {
		return strings.Trim(v[0], " \x00")
	}
	return ""
}

func hasValue(e *dcm.Element) bool {
	if e == nil || e.Value == nil {
		return false
	}
	switch v := e.Value.GetValue().(type) {
	case []string:
		for _, s := range v {
			if strings.Trim(s, " \x00") != "" {
				return true
			}
		}
		return false
	case []*dcm.SequenceItemValue:
		return len(v) > 0
	case []int:
		return len(v) > 0
	case []float64:
		return len(v) > 0
	case []byte:
		return len(v) > 0
	}
	return true
}

// emptyElement is a type 2 key without a value, with the dictionary's VR.
func emptyElement(tg tag.Tag) *dcm.Element {
	info, err := tag.Find(tg)
	if err != nil || len(info.VRs) == 0 {
		return nil
	}
	vr := info.VRs[0]
	var v dcm.Value
	if vr == "SQ" {
		v = mustValue([]*dcm.SequenceItemValue{})
	} else {
		v = mustValue([]string{})
	}
	return &dcm.Element{Tag: tg, RawValueRepresentation: vr, Value: v}
}

func mustValue(data any) dcm.Value {
	v, err := dcm.NewValue(data)
	if err != nil {
		panic(err)
	}
	return v
}

// encode writes one element (sequences with their items) in explicit VR
// little endian.
func encode(e *dcm.Element) (Key, error) {
	var b bytes.Buffer
	w, err := dcm.NewWriter(&b, dcm.SkipVRVerification())
	if err != nil {
		return Key{}, err
	}
	w.SetTransferSyntax(binary.LittleEndian, false)
	if err := w.WriteElement(e); err != nil {
		return Key{}, fmt.Errorf("dicomdir: key %v: %w", e.Tag, err)
	}
	return Key{Tag: e.Tag, Raw: b.Bytes(), Text: nonASCII(e)}, nil
}

// nonASCII: a text value of the element (at any depth) has a non-ASCII character.
func nonASCII(e *dcm.Element) bool {
	switch v := e.Value.GetValue().(type) {
	case []string:
		for _, s := range v {
			for i := 0; i < len(s); i++ {
				if s[i] >= 0x80 {
					return true
				}
			}
		}
	case []*dcm.SequenceItemValue:
		for _, it := range v {
			for _, sub := range it.GetValue().([]*dcm.Element) {
				if nonASCII(sub) {
					return true
				}
			}
		}
	}
	return false
}

// AsPrivate makes in's lower-level record a PRIVATE record (Private Record
// UID: the SOP class UID, the only key it needs): for a file whose own
// record type cannot be written because the file lacks one of its type 1
// keys (FromDataset's ErrMissingKey). The file stays referenced.
func AsPrivate(in Instance) (Instance, error) {
	in.RecordType = "PRIVATE"
	k, err := encode(&dcm.Element{Tag: privateRecordUID, RawValueRepresentation: "UI", Value: mustValue([]string{in.SOPClassUID})})
	if err != nil {
		return in, err
	}
	in.Keys = []Key{k}
	return in, nil
}
