// Package deid de-identifies one parsed DICOM dataset per the Basic
// Application Level Confidentiality Profile of DICOM PS3.15 Annex E: the
// actions of every row of PS3.15 Table E.1-1 (profile/e1-1.tsv, resolved
// in table.go) applied at any depth of nested sequences,
// private attributes removed, every instance UID replaced through a UIDMap
// shared by all files of one download so references stay consistent, and
// the de-identification attributes of the Patient module set.
package deid

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Code of the Basic Application Confidentiality Profile (PS3.16 CID 7050).
const (
	MethodCodeValue   = "113100"
	MethodCodeScheme  = "DCM"
	MethodCodeMeaning = "Basic Application Confidentiality Profile"
	// MethodText is written into De-identification Method (0012,0063), LO:
	// at most 64 characters.
	MethodText = "PS3.15 Basic Application Confidentiality Profile (RadPass)"
	// ImplementationClassUID and ImplementationVersionName name RadPass as
	// the implementation that wrote the de-identified file (PS3.10 7.1);
	// the same values as package dicomdir's.
	ImplementationClassUID    = "2.25.129795574263245735006311960402744062291"
	ImplementationVersionName = "RADPASS_1"
)

// The dummy values of action D (PS3.15 E.1.1), one fixed value per VR so
// that every date and time of a download agrees. The DICOMDIR writer uses
// the same values for the records of a de-identified download.
const (
	DummyDate     = "19000101"       // DA
	DummyTime     = "000000"         // TM
	DummyDateTime = "19000101000000" // DT
	DummyPN       = "Anonymous^"     // PN: family name only, with its "^" (a bare word is the retired ACR-NEMA form dciodvfy flags)
	DummyAS       = "000Y"           // AS
	DummyNumber   = "0"              // DS, IS
	DummyText     = "ANONYMIZED"     // AE, CS, SH, LO, ST, LT, UT, UC, UR
	// The code that replaces any code inside a sequence whose action is D
	// (a private coding scheme, PS3.16 8.2: designators starting "99").
	DummyCodeValue   = "ANONYMIZED"
	DummyCodeScheme  = "99RADPASS"
	DummyCodeMeaning = "Anonymized"
)

// UIDMap gives each original UID one new UID, the same every time it is
// asked for, so the Study, Series and Frame of Reference UIDs and every
// reference between files of one download stay consistent. New UIDs are
// 2.25.<decimal of a random 128-bit UUID> (PS3.5 B.2). Safe for concurrent use.
type UIDMap struct {
	mu  sync.Mutex
	m   map[string]string
	new map[string]bool
	key []byte // keyed map: replacements derived from the UID (KeyedUID)
}

// NewUIDMap returns an empty map; use one per download.
func NewUIDMap() *UIDMap { return &UIDMap{m: map[string]string{}, new: map[string]bool{}} }

// NewKeyedUIDMap returns a map whose replacements are KeyedUID(key, uid):
// every map with the same key (every download and DICOMweb answer of one
// anonymized access) gives a UID the same replacement, and without the key
// the original cannot be found from it.
func NewKeyedUIDMap(key []byte) *UIDMap {
	u := NewUIDMap()
	u.key = append([]byte(nil), key...)
	return u
}

// KeyedUID is the replacement of uid under key: 2.25.<decimal of the first
// 128 bits of HMAC-SHA256(key, uid), marked as a version 8 UUID>.
func KeyedUID(key []byte, uid string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.TrimRight(uid, "\x00 ")))
	b := m.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8 (RFC 9562: custom)
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return "2.25." + new(big.Int).SetBytes(b).String()
}

// Map returns the replacement of uid ("" stays "").
func (u *UIDMap) Map(uid string) string {
	uid = strings.TrimRight(uid, "\x00 ")
	if uid == "" {
		return ""
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if n, ok := u.m[uid]; ok {
		return n
	}
	n := ""
	if u.key != nil {
		n = KeyedUID(u.key, uid)
	} else {
		n = NewUID()
	}
	u.m[uid] = n
	u.new[n] = true
	return n
}

// IsNew reports whether uid is a replacement this map made.
func (u *UIDMap) IsNew(uid string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.new[strings.TrimRight(uid, "\x00 ")]
}

// Lookup returns the replacement of uid if one was made.
func (u *UIDMap) Lookup(uid string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	n, ok := u.m[strings.TrimRight(uid, "\x00 ")]
	return n, ok
}

// Len is the number of UIDs replaced so far.
func (u *UIDMap) Len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.m)
}

// NewUID returns 2.25.<decimal of a random (version 4) UUID>.
func NewUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return "2.25." + new(big.Int).SetBytes(b[:]).String()
}

// Options are the replacement values of one download.
type Options struct {
	// PatientName replaces Patient's Name, e.g. PseudonymName("123456").
	PatientName string
	// PatientID replaces Patient ID, e.g. the same 6-digit number.
	PatientID string
	// UIDs is shared by every file of one download (required).
	UIDs *UIDMap
}

// ErrBurnedIn marks an instance whose pixels carry burned-in annotation
// (0028,0301) = YES: the basic profile does not clean pixel data, so such
// an instance must be left out of a de-identified set.
var ErrBurnedIn = errors.New("deid: burned-in annotation in the pixel data")

// BurnedIn reports Burned In Annotation (0028,0301) = YES.
func BurnedIn(ds *dcm.Dataset) bool {
	return strings.EqualFold(strings.TrimSpace(String(ds, tag.BurnedInAnnotation)), "YES")
}

// PseudonymName is the Patient's Name of an anonymized bucket: Anonymous^<number>.
func PseudonymName(number string) string { return "Anonymous^" + number }

// Apply de-identifies ds in place. ds should be parsed with
// dicom.SkipProcessingPixelDataValue (or fully): pixel data is not touched.
// The file meta group's Media Storage SOP Instance UID follows the new SOP
// Instance UID.
func Apply(ds *dcm.Dataset, opt Options) error {
	if opt.UIDs == nil {
		return errors.New("deid: Options.UIDs is required")
	}
	if opt.PatientName == "" || opt.PatientID == "" {
		return errors.New("deid: a replacement patient name and ID are required")
	}
	els, err := process(ds.Elements, opt, 0, false)
	if err != nil {
		return err
	}
	ds.Elements = els
	sop := ""
	if e, err := ds.FindElementByTag(tag.SOPInstanceUID); err == nil {
		if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 {
			sop = v[0]
		}
	}
	set := func(t tag.Tag, v any) error {
		e, err := dcm.NewElement(t, v)
		if err != nil {
			return fmt.Errorf("deid: %v: %w", t, err)
		}
		ds.Elements = upsert(ds.Elements, e)
		return nil
	}
	if sop != "" {
		if err := set(tag.MediaStorageSOPInstanceUID, []string{sop}); err != nil {
			return err
		}
	}
	if err := set(tag.ImplementationClassUID, []string{ImplementationClassUID}); err != nil {
		return err
	}
	if err := set(tag.ImplementationVersionName, []string{ImplementationVersionName}); err != nil {
		return err
	}
	if err := set(tag.PatientName, []string{opt.PatientName}); err != nil {
		return err
	}
	if err := set(tag.PatientID, []string{opt.PatientID}); err != nil {
		return err
	}
	if err := set(tag.PatientIdentityRemoved, []string{"YES"}); err != nil {
		return err
	}
	if err := set(tag.DeidentificationMethod, []string{MethodText}); err != nil {
		return err
	}
	code := func(t tag.Tag, v string) *dcm.Element {
		e, err := dcm.NewElement(t, []string{v})
		if err != nil {
			panic(err)
		}
		return e
	}
	item := []*dcm.Element{
		code(tag.CodeValue, MethodCodeValue),
		code(tag.CodingSchemeDesignator, MethodCodeScheme),
		code(tag.CodeMeaning, MethodCodeMeaning),
	}
	seq, err := dcm.NewElement(tag.DeidentificationMethodCodeSequence, [][]*dcm.Element{item})
	if err != nil {
		return err
	}
	seq.ValueLength = tag.VLUndefinedLength
	ds.Elements = upsert(ds.Elements, seq)
	// Dates were removed, emptied or set to the dummy (no "retain
	// longitudinal" option).
	return set(tag.LongitudinalTemporalInformationModified, []string{"REMOVED"})
}

// upsert replaces the element with e's tag, or inserts e in tag order.
func upsert(els []*dcm.Element, e *dcm.Element) []*dcm.Element {
	for i, x := range els {
		if x.Tag == e.Tag {
			els[i] = e
			return els
		}
		if x.Tag.Compare(e.Tag) > 0 {
			els = append(els, nil)
			copy(els[i+1:], els[i:])
			els[i] = e
			return els
		}
	}
	return append(els, e)
}

// process applies the table to els and, recursively, to the items of their
// sequences. Inside a sequence whose action is D (inDummy) the free text
// the table does not list (an annotation's text, a name in a code
// meaning) gets the dummy value of its VR too, and codes the dummy code:
// the sequence stays present and valid with nothing of the original text.
func process(els []*dcm.Element, opt Options, depth int, inDummy bool) ([]*dcm.Element, error) {
	if depth > 64 {
		return nil, errors.New("deid: sequences nested too deeply")
	}
	out := els[:0]
	for _, e := range els {
		if e == nil {
			continue
		}
		a := ActionFor(e.Tag)
		if a != Remove && !unSequence(e) {
			continue
		}
		isSeq := e.Value != nil && e.Value.ValueType() == dcm.Sequences
		if a == Keep && inDummy && freeText[vrOf(e)] {
			a = Dummy
		}
		switch a {
		case Remove:
			continue
		case Empty:
			if err := empty(e); err != nil {
				return nil, err
			}
		case Dummy:
			if !isSeq {
				if err := dummy(e, opt.UIDs); err != nil {
					return nil, err
				}
			}
		case ReplaceUID:
			if err := replaceUID(e, opt.UIDs); err != nil {
				return nil, err
			}
		}
		if a != Empty && isSeq {
			items := e.Value.GetValue().([]*dcm.SequenceItemValue)
			rebuilt := make([][]*dcm.Element, 0, len(items))
			for _, item := range items {
				kept, err := process(item.GetValue().([]*dcm.Element), opt, depth+1, inDummy || a == Dummy)
				if err != nil {
					return nil, err
				}
				if a == Dummy || inDummy {
					if kept, err = dummyCode(kept); err != nil {
						return nil, err
					}
				}
				rebuilt = append(rebuilt, kept)
			}
			v, err := dcm.NewValue(rebuilt)
			if err != nil {
				return nil, err
			}
			e.Value = v
		}
		out = append(out, e)
	}
	return out, nil
}

// replaceUID replaces every UID value of e through m (U). A value read
// as UN (implicit VR, a tag the parser does not know) is decoded first and
// written back as UI.
func replaceUID(e *dcm.Element, m *UIDMap) error {
	vals, ok := stringValues(e)
	if !ok {
		return empty(e)
	}
	nv := make([]string, len(vals))
	for i, v := range vals {
		nv[i] = m.Map(v)
	}
	return setTyped(e, "UI", nv...)
}

// stringValues is e's string values, also when it holds UN bytes.
func stringValues(e *dcm.Element) ([]string, bool) {
	if e.Value == nil {
		return nil, false
	}
	switch e.Value.ValueType() {
	case dcm.Strings:
		return e.Value.GetValue().([]string), true
	case dcm.Bytes:
		if e.RawValueRepresentation != "UN" {
			return nil, false
		}
		s := strings.TrimRight(string(e.Value.GetValue().([]byte)), "\x00 ")
		if s == "" {
			return nil, true
		}
		return strings.Split(s, `\`), true
	}
	return nil, false
}

// setTyped gives e string values and, where it was read as UN, the VR vr.
func setTyped(e *dcm.Element, vr string, vals ...string) error {
	if e.RawValueRepresentation == "UN" || e.RawValueRepresentation == "" {
		e.RawValueRepresentation = vr
		e.ValueRepresentation = tag.GetVRKind(e.Tag, vr)
	}
	return setStrings(e, vals...)
}

func setStrings(e *dcm.Element, vals ...string) error {
	v, err := dcm.NewValue(vals)
	if err != nil {
		return err
	}
	e.Value = v
	return nil
}

// empty gives e a zero-length value of its own kind (Z).
func empty(e *dcm.Element) error {
	if e.Value == nil {
		return nil
	}
	var data any
	switch e.Value.ValueType() {
	case dcm.Strings:
		data = []string{}
	case dcm.Bytes:
		data = []byte{}
	case dcm.Ints:
		data = []int{}
	case dcm.Floats:
		data = []float64{}
	case dcm.Sequences:
		data = [][]*dcm.Element{}
	default:
		return fmt.Errorf("deid: cannot empty %v", e.Tag)
	}
	v, err := dcm.NewValue(data)
	if err != nil {
		return err
	}
	e.Value = v
	return nil
}

// vrOf is the VR that decides e's dummy value: the table's (PS3.6) where
// the file's is UN or missing.
func vrOf(e *dcm.Element) string {
	vr := e.RawValueRepresentation
	if vr == "UN" || vr == "" {
		if r, ok := rowOf[e.Tag]; ok && len(r.VR) == 2 {
			return r.VR
		}
		if r, ok := rowOf[e.Tag]; ok && r.VR == "OB or OW" {
			return "OB"
		}
	}
	return vr
}

// DummyValue is the dummy string value of action D for a string VR ("",
// false for the binary and numeric VRs).
func DummyValue(vr string) (string, bool) {
	switch vr {
	case "DA":
		return DummyDate, true
	case "TM":
		return DummyTime, true
	case "DT":
		return DummyDateTime, true
	case "PN":
		return DummyPN, true
	case "AS":
		return DummyAS, true
	case "DS", "IS":
		return DummyNumber, true
	case "AE", "CS", "SH", "LO", "ST", "LT", "UT", "UC", "UR":
		return DummyText, true
	}
	return "", false
}

// dummy gives e a non-identifying value consistent with its VR (D): the
// fixed values above; a UID is replaced through the map (a D on a UID
// must stay consistent between the files of a download); numbers are 0;
// binary values two zero bytes.
func dummy(e *dcm.Element, m *UIDMap) error {
	vr := vrOf(e)
	if vr == "UI" {
		return replaceUID(e, m)
	}
	if d, ok := DummyValue(vr); ok {
		return setTyped(e, vr, d)
	}
	var data any
	switch vr {
	case "US", "SS", "UL", "SL", "UV", "SV":
		data = []int{0}
	case "FL", "FD":
		data = []float64{0}
	case "OB", "OW", "OD", "OF", "OL", "OV", "UN":
		data = []byte{0, 0}
	case "AT":
		return empty(e)
	default:
		return fmt.Errorf("deid: no dummy value for %v (VR %q)", e.Tag, vr)
	}
	v, err := dcm.NewValue(data)
	if err != nil {
		return err
	}
	e.Value = v
	if e.RawValueRepresentation == "UN" || e.RawValueRepresentation == "" {
		e.RawValueRepresentation = vr
		e.ValueRepresentation = tag.GetVRKind(e.Tag, vr)
	}
	return nil
}

// freeText are the VRs of free text and names.
var freeText = map[string]bool{"SH": true, "LO": true, "ST": true, "LT": true, "UT": true, "UC": true, "PN": true}

// codeTags are the attributes of a Code Sequence Macro item that carry a code.
var codeTags = []tag.Tag{t(0x0008, 0x0100), t(0x0008, 0x0102), t(0x0008, 0x0103), t(0x0008, 0x0104),
	t(0x0008, 0x0119), t(0x0008, 0x0120)}

// dummyCode replaces the code of an item of a D sequence, if it has one,
// with the dummy code.
func dummyCode(item []*dcm.Element) ([]*dcm.Element, error) {
	has := false
	out := item[:0]
	for _, e := range item {
		if slices.Contains(codeTags, e.Tag) {
			has = true
			continue
		}
		out = append(out, e)
	}
	if !has {
		return out, nil
	}
	for _, c := range []struct {
		tg tag.Tag
		v  string
	}{{tag.CodeValue, DummyCodeValue}, {tag.CodingSchemeDesignator, DummyCodeScheme}, {tag.CodeMeaning, DummyCodeMeaning}} {
		e, err := dcm.NewElement(c.tg, []string{c.v})
		if err != nil {
			return nil, err
		}
		out = upsert(out, e)
	}
	return out, nil
}
