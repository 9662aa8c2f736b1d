package deid_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

var newUIDRe = regexp.MustCompile(`^2\.25\.[1-9][0-9]*$`)

func el(t *testing.T, tg tag.Tag, v any) *dcm.Element {
	t.Helper()
	e, err := dcm.NewElement(tg, v)
	if err != nil {
		t.Fatalf("%v: %v", tg, err)
	}
	return e
}

func private(tg tag.Tag, vr, v string) *dcm.Element {
	val, _ := dcm.NewValue([]string{v})
	return &dcm.Element{Tag: tg, RawValueRepresentation: vr, ValueRepresentation: tag.GetVRKind(tg, vr), Value: val}
}

func seq(t *testing.T, tg tag.Tag, items ...[]*dcm.Element) *dcm.Element {
	e := el(t, tg, items)
	e.ValueLength = tag.VLUndefinedLength
	return e
}

// identifying is a synthetic instance full of what the profile must remove.
type identifying struct {
	study, series, sop, frameOfRef, refSOP string
}

const (
	origName   = "Vandermeulen^Hortensia"
	origID     = "PID-7734512"
	origBirth  = "19470812"
	origAcc    = "ACC99887766"
	origInst   = "Sint-Elisabeth Ziekenhuis"
	origAddr   = "Kerkstraat 12 Herentals"
	origPhone  = "+32 14 55 66 77"
	origPhys   = "Dokter^Gerarda"
	origSerial = "SN-4451-XQ"
	origDesc   = "CT THORAX Hortensia"
	origOther  = "OTHER-ID-5566"
	origPriv   = "PRIVATE-SECRET-VALUE"
)

func (id identifying) bytes(t *testing.T) []byte {
	t.Helper()
	raw, err := rd.Synth{StudyUID: id.study, SeriesUID: id.series, SOPUID: id.sop, PatientID: origID,
		PatientName: origName, BirthDate: origBirth, CharSet: "ISO_IR 100", Rows: 8, Cols: 8, BitsAllocated: 16,
		Pixel: func(f, i, s int) int { return i * 37 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dcm.Parse(bytes.NewReader(raw), int64(len(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	add := []*dcm.Element{
		el(t, tag.AccessionNumber, []string{origAcc}),
		el(t, tag.InstitutionName, []string{origInst}),
		el(t, tag.InstitutionAddress, []string{origAddr}),
		el(t, tag.ReferringPhysicianName, []string{origPhys}),
		el(t, tag.StationName, []string{"CT-ROOM-3"}),
		el(t, tag.StudyDescription, []string{origDesc}),
		el(t, tag.SeriesDescription, []string{origDesc}),
		el(t, tag.OperatorsName, []string{"Operator^Olga"}),
		el(t, tag.PerformingPhysicianName, []string{origPhys}),
		el(t, tag.PatientSex, []string{"F"}),
		el(t, tag.PatientAge, []string{"079Y"}),
		el(t, tag.PatientAddress, []string{origAddr}),
		el(t, tag.PatientTelephoneNumbers, []string{origPhone}),
		el(t, tag.OtherPatientIDs, []string{origOther}),
		el(t, tag.OtherPatientNames, []string{"Janssens^Hortensia"}),
		el(t, tag.PatientComments, []string{"lives with daughter"}),
		el(t, tag.DeviceSerialNumber, []string{origSerial}),
		el(t, tag.StudyID, []string{"STUDY77"}),
		el(t, tag.FrameOfReferenceUID, []string{id.frameOfRef}),
		el(t, tag.ImageComments, []string{"call Hortensia back"}),
		// Recurse: kept, with its UIDs replaced and its private tags removed.
		seq(t, tag.ReferencedImageSequence, []*dcm.Element{
			el(t, tag.ReferencedSOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.7"}),
			el(t, tag.ReferencedSOPInstanceUID, []string{id.refSOP}),
			private(tag.Tag{Group: 0x0029, Element: 0x0010}, "LO", "ACME"),
			private(tag.Tag{Group: 0x0029, Element: 0x1001}, "LO", origPriv),
		}),
		// Not listed: kept, processed recursively.
		seq(t, tag.ProcedureCodeSequence, []*dcm.Element{
			el(t, tag.CodeValue, []string{"CTTHX"}),
			el(t, tag.CodingSchemeDesignator, []string{"LOCAL"}),
			el(t, tag.CodeMeaning, []string{"CT thorax"}),
			el(t, tag.PatientName, []string{origName}), // a misplaced name inside an item is emptied too
		}),
		// Removed with its content.
		seq(t, tag.RequestAttributesSequence, []*dcm.Element{
			el(t, tag.RequestedProcedureID, []string{"RP-123456789"}),
		}),
		private(tag.Tag{Group: 0x0009, Element: 0x0010}, "LO", "ACME"),
		private(tag.Tag{Group: 0x0009, Element: 0x1002}, "LO", origPriv),
	}
	for _, e := range add {
		ds.Elements = insert(ds.Elements, e)
	}
	var out bytes.Buffer
	if err := dcm.Write(&out, ds, dcm.SkipVRVerification()); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func insert(els []*dcm.Element, e *dcm.Element) []*dcm.Element {
	for i, x := range els {
		if x.Tag.Compare(e.Tag) > 0 {
			return append(els[:i], append([]*dcm.Element{e}, els[i:]...)...)
		}
	}
	return append(els, e)
}

func parse(t *testing.T, b []byte) dcm.Dataset {
	t.Helper()
	ds, err := dcm.Parse(bytes.NewReader(b), int64(len(b)), nil, dcm.SkipProcessingPixelDataValue())
	if err != nil {
		t.Fatalf("parse back: %v", err)
	}
	return ds
}

func str(ds *dcm.Dataset, tg tag.Tag) (string, bool) {
	e, err := ds.FindElementByTag(tg)
	if err != nil {
		return "", false
	}
	v, _ := e.Value.GetValue().([]string)
	return strings.Join(v, `\`), true
}

func rewrite(t *testing.T, in []byte, m *deid.UIDMap) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := deid.Rewrite(&out, bytes.NewReader(in), int64(len(in)), deid.Options{
		PatientName: deid.PseudonymName("123456"), PatientID: "123456", UIDs: m}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestRewriteSynthetic(t *testing.T) {
	id := identifying{study: "1.2.826.0.1.3680043.9.1", series: "1.2.826.0.1.3680043.9.1.2",
		sop: "1.2.826.0.1.3680043.9.1.2.3", frameOfRef: "1.2.826.0.1.3680043.9.1.4", refSOP: "1.2.826.0.1.3680043.9.1.2.99"}
	in := id.bytes(t)
	m := deid.NewUIDMap()
	out := rewrite(t, in, m)
	ds := parse(t, out)

	want := map[tag.Tag]string{
		tag.PatientName:            "Anonymous^123456",
		tag.PatientID:              "123456",
		tag.PatientBirthDate:       "",
		tag.PatientSex:             "",
		tag.AccessionNumber:        "",
		tag.ReferringPhysicianName: "",
		tag.StudyID:                deid.DummyText,
		tag.StudyDate:              deid.DummyDate,
		tag.InstitutionName:        deid.DummyText,
		tag.StationName:            deid.DummyText,
		tag.OperatorsName:          deid.DummyPN,
		tag.DeviceSerialNumber:     deid.DummyText,
		tag.PatientIdentityRemoved: "YES",
		tag.DeidentificationMethod: deid.MethodText,
		tag.Modality:               "OT",
		tag.SeriesNumber:           "1",
	}
	for tg, w := range want {
		got, ok := str(&ds, tg)
		if !ok || got != w {
			t.Errorf("%v = %q (present %v), want %q", tg, got, ok, w)
		}
	}
	for _, tg := range []tag.Tag{tag.InstitutionAddress, tag.StudyDescription,
		tag.SeriesDescription, tag.PerformingPhysicianName, tag.PatientAge, tag.PatientAddress,
		tag.PatientTelephoneNumbers, tag.OtherPatientIDs, tag.OtherPatientNames, tag.PatientComments,
		tag.ImageComments, tag.RequestAttributesSequence, tag.RequestedProcedureID} {
		if _, err := ds.FindElementByTagNested(tg); err == nil {
			t.Errorf("%v should be removed", tg)
		}
	}
	for e := range ds.FlatIterator() {
		if tag.IsPrivate(e.Tag.Group) {
			t.Errorf("private tag %v left", e.Tag)
		}
	}
	// UIDs: new, under 2.25, consistent with the map, meta follows SOP.
	for tg, orig := range map[tag.Tag]string{tag.StudyInstanceUID: id.study, tag.SeriesInstanceUID: id.series,
		tag.SOPInstanceUID: id.sop, tag.MediaStorageSOPInstanceUID: id.sop, tag.FrameOfReferenceUID: id.frameOfRef} {
		got, _ := str(&ds, tg)
		if !newUIDRe.MatchString(got) || len(got) > 64 {
			t.Errorf("%v = %q, not a 2.25 UID", tg, got)
		}
		if n, _ := m.Lookup(orig); n != got {
			t.Errorf("%v = %q, map says %q", tg, got, n)
		}
	}
	if c, _ := str(&ds, tag.ImplementationClassUID); c != deid.ImplementationClassUID {
		t.Errorf("implementation class UID %q", c)
	}
	if c, _ := str(&ds, tag.SOPClassUID); c != "1.2.840.10008.5.1.4.1.1.7" {
		t.Errorf("SOP class changed: %q", c)
	}
	ref, err := ds.FindElementByTagNested(tag.ReferencedSOPInstanceUID)
	if err != nil {
		t.Fatal("referenced image sequence lost")
	}
	if n, _ := m.Lookup(id.refSOP); ref.Value.GetValue().([]string)[0] != n || n == "" {
		t.Errorf("referenced SOP instance UID %v not mapped (%q)", ref.Value, n)
	}
	if pn, err := ds.FindElementByTagNested(tag.CodeMeaning); err != nil || pn.Value.GetValue().([]string)[0] != "CT thorax" {
		t.Errorf("procedure code sequence content lost")
	}
	// Method code sequence: 113100 DCM.
	seqEl, err := ds.FindElementByTag(tag.DeidentificationMethodCodeSequence)
	if err != nil {
		t.Fatal("no (0012,0064)")
	}
	items := seqEl.Value.GetValue().([]*dcm.SequenceItemValue)
	if len(items) != 1 {
		t.Fatalf("%d method code items", len(items))
	}
	code := dcm.Dataset{Elements: items[0].GetValue().([]*dcm.Element)}
	if v, _ := str(&code, tag.CodeValue); v != "113100" {
		t.Errorf("code value %q", v)
	}
	if v, _ := str(&code, tag.CodingSchemeDesignator); v != "DCM" {
		t.Errorf("scheme %q", v)
	}
	// Nothing identifying left anywhere in the bytes.
	for _, s := range []string{origName, "Vandermeulen", "Hortensia", origID, origBirth, origAcc, origInst, origAddr,
		origPhone, origPhys, origSerial, origDesc, origOther, origPriv, "Olga", "CT-ROOM-3", "STUDY77", "RP-123456789",
		id.study, id.series, id.sop, id.frameOfRef, id.refSOP} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("output still contains %q", s)
		}
		if !bytes.Contains(in, []byte(s)) {
			t.Errorf("test input lacks %q (the check would be vacuous)", s)
		}
	}
	// Pixel data untouched.
	if !bytes.Equal(pixels(t, in), pixels(t, out)) {
		t.Error("pixel data changed")
	}
	dcmdump(t, out)
}

func pixels(t *testing.T, b []byte) []byte {
	t.Helper()
	ds := parse(t, b)
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal("no pixel data")
	}
	info := dcm.MustGetPixelDataInfo(e.Value)
	if !info.IsEncapsulated {
		return info.UnprocessedValueData
	}
	var all []byte
	for _, f := range info.Frames {
		all = append(all, f.EncapsulatedData.Data...)
		all = append(all, 0xff, 0xfe) // fragment boundary
	}
	return all
}

// dcmdump checks that dcmtk reads the file without an error (fails where
// dcmtk is not installed; scripts/deps.sh test installs it).
func dcmdump(t *testing.T, b []byte) {
	t.Helper()
	bin := testtool.Path(t, "dcmdump")
	f := filepath.Join(t.TempDir(), "x.dcm")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-q", "-E", f).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("E: ")) {
		t.Errorf("dcmdump: %v\n%s", err, out)
	}
}

// Two files of one series keep one study, series and frame of reference UID;
// each gets its own new SOP instance UID; a second download gets new ones.
func TestUIDsConsistentAcrossFiles(t *testing.T) {
	a := identifying{study: "1.2.3.4", series: "1.2.3.4.5", sop: "1.2.3.4.5.1", frameOfRef: "1.2.3.4.9", refSOP: "1.2.3.4.5.2"}
	b := identifying{study: "1.2.3.4", series: "1.2.3.4.5", sop: "1.2.3.4.5.2", frameOfRef: "1.2.3.4.9", refSOP: "1.2.3.4.5.1"}
	m := deid.NewUIDMap()
	da, db := parse(t, rewrite(t, a.bytes(t), m)), parse(t, rewrite(t, b.bytes(t), m))
	for _, tg := range []tag.Tag{tag.StudyInstanceUID, tag.SeriesInstanceUID, tag.FrameOfReferenceUID} {
		x, _ := str(&da, tg)
		y, _ := str(&db, tg)
		if x != y || x == "" {
			t.Errorf("%v differs between files: %q %q", tg, x, y)
		}
	}
	sa, _ := str(&da, tag.SOPInstanceUID)
	sb, _ := str(&db, tag.SOPInstanceUID)
	if sa == sb {
		t.Error("two instances got one SOP instance UID")
	}
	// a references b and b references a: the references follow the new UIDs.
	ra, _ := da.FindElementByTagNested(tag.ReferencedSOPInstanceUID)
	rb, _ := db.FindElementByTagNested(tag.ReferencedSOPInstanceUID)
	if ra.Value.GetValue().([]string)[0] != sb || rb.Value.GetValue().([]string)[0] != sa {
		t.Error("cross references do not follow the new SOP instance UIDs")
	}
	if m.Len() != 5 {
		t.Errorf("map holds %d UIDs, want 5", m.Len())
	}
	other := parse(t, rewrite(t, a.bytes(t), deid.NewUIDMap()))
	s1, _ := str(&da, tag.StudyInstanceUID)
	s2, _ := str(&other, tag.StudyInstanceUID)
	if s1 == s2 {
		t.Error("two downloads share a new study UID")
	}
}

// The six real sample files (explicit, implicit, deflated, enhanced CT with
// nested sequences, private tags): de-identified, readable by the library
// and dcmtk, original identifiers and private tags gone, pixels untouched.
func TestRewriteSamples(t *testing.T) {
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	m := deid.NewUIDMap()
	for _, name := range rd.SampleFiles {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			orig := parse(t, in)
			out := rewrite(t, in, m)
			ds := parse(t, out)
			if v, _ := str(&ds, tag.PatientName); v != "Anonymous^123456" {
				t.Errorf("name %q", v)
			}
			if v, _ := str(&ds, tag.PatientIdentityRemoved); v != "YES" {
				t.Errorf("identity removed %q", v)
			}
			for e := range ds.FlatIterator() {
				if tag.IsPrivate(e.Tag.Group) {
					t.Errorf("private tag %v left", e.Tag)
				}
			}
			for _, tg := range []tag.Tag{tag.PatientName, tag.PatientID, tag.PatientBirthDate, tag.AccessionNumber,
				tag.InstitutionName, tag.StudyInstanceUID, tag.SeriesInstanceUID, tag.SOPInstanceUID, tag.FrameOfReferenceUID} {
				v, _ := str(&orig, tg)
				// A short number can occur by chance in the new random UIDs.
				if (len(v) >= 8 || len(v) >= 4 && strings.Trim(v, "0123456789.") != "") && bytes.Contains(out, []byte(v)) {
					t.Errorf("%v value %q still in the output", tg, v)
				}
			}
			sop, _ := str(&ds, tag.SOPInstanceUID)
			meta, _ := str(&ds, tag.MediaStorageSOPInstanceUID)
			if sop != meta || !newUIDRe.MatchString(sop) {
				t.Errorf("SOP %q, meta %q", sop, meta)
			}
			if !bytes.Equal(pixels(t, in), pixels(t, out)) {
				t.Error("pixel data changed")
			}
			dcmdump(t, out)
		})
	}
}

func TestActionFor(t *testing.T) {
	for _, c := range []struct {
		tag  tag.Tag
		want deid.Action
	}{
		{tag.PatientName, deid.Empty},
		{tag.PatientBirthDate, deid.Empty},
		{tag.InstitutionName, deid.Dummy},                      // X/Z/D
		{tag.SeriesDate, deid.Dummy},                           // X/D, type 1 in PET
		{tag.StudyDate, deid.Dummy},                            // Z, type 1 in the DICOMDIR
		{tag.Tag{Group: 0x0018, Element: 0x1078}, deid.Remove}, // Radiopharmaceutical Start DateTime
		{tag.Tag{Group: 0x0044, Element: 0x0010}, deid.Remove}, // Substance Administration DateTime
		{tag.Tag{Group: 0x0018, Element: 0x9701}, deid.Dummy},  // Decay Correction DateTime
		{tag.Tag{Group: 0x60FE, Element: 0x4000}, deid.Remove}, // overlay comments
		{tag.Tag{Group: 0x0040, Element: 0x0555}, deid.Empty},  // Acquisition Context Sequence (X/Z)
		{tag.StudyInstanceUID, deid.ReplaceUID},
		{tag.ReferencedSOPInstanceUID, deid.ReplaceUID},
		{tag.ReferencedImageSequence, deid.Recurse},
		{tag.Modality, deid.Keep},
		{tag.SOPClassUID, deid.Keep},
		{tag.PixelData, deid.Keep},
		{tag.Tag{Group: 0x0009, Element: 0x0010}, deid.Remove}, // private creator
		{tag.Tag{Group: 0x7FE1, Element: 0x1010}, deid.Remove}, // private
		{tag.Tag{Group: 0x0008, Element: 0x0000}, deid.Remove}, // group length
		{tag.Tag{Group: 0x0002, Element: 0x0000}, deid.Keep},   // meta group length
		{tag.Tag{Group: 0x5002, Element: 0x3000}, deid.Remove}, // curve data
		{tag.Tag{Group: 0x6000, Element: 0x3000}, deid.Remove}, // overlay data
		{tag.Tag{Group: 0x6000, Element: 0x0010}, deid.Keep},   // overlay rows
		{tag.Tag{Group: 0x0040, Element: 0xA730}, deid.Remove}, // content sequence
	} {
		if got := deid.ActionFor(c.tag); got != c.want {
			t.Errorf("ActionFor(%v) = %c, want %c", c.tag, got, c.want)
		}
	}
}

func TestUIDMap(t *testing.T) {
	m := deid.NewUIDMap()
	a, b := m.Map("1.2.3"), m.Map("1.2.3\x00")
	if a != b || !newUIDRe.MatchString(a) || len(a) > 64 {
		t.Errorf("%q %q", a, b)
	}
	if m.Map("1.2.4") == a {
		t.Error("two UIDs mapped to one")
	}
	if m.Map("") != "" {
		t.Error("empty UID mapped")
	}
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := deid.NewUID()
		if seen[u] || !newUIDRe.MatchString(u) || len(u) > 64 {
			t.Fatalf("bad or repeated UID %q", u)
		}
		seen[u] = true
	}
}

func TestOptionsRequired(t *testing.T) {
	ds := &dcm.Dataset{}
	if err := deid.Apply(ds, deid.Options{PatientName: "A^1", PatientID: "1"}); err == nil {
		t.Error("no UIDMap accepted")
	}
	if err := deid.Apply(ds, deid.Options{UIDs: deid.NewUIDMap()}); err == nil {
		t.Error("no pseudonym accepted")
	}
	if _, err := deid.Read(bytes.NewReader([]byte("not dicom at all")), 16); err == nil {
		t.Error("garbage parsed")
	}
}

// Encapsulated (JPEG) pixel data: every fragment comes out byte for byte.
func TestRewriteEncapsulated(t *testing.T) {
	in, err := rd.Synth{StudyUID: "1.2.5", SeriesUID: "1.2.5.6", SOPUID: "1.2.5.6.7", PatientID: origID,
		PatientName: origName, Rows: 16, Cols: 16, Frames: 3, BitsAllocated: 8,
		TransferSyntax: "1.2.840.10008.1.2.4.50", Pixel: func(f, i, s int) int { return (i*7 + f*50) % 256 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	out := rewrite(t, in, deid.NewUIDMap())
	p := pixels(t, out)
	if len(p) < 3*100 || !bytes.Equal(pixels(t, in), p) {
		t.Errorf("encapsulated fragments changed (%d bytes)", len(p))
	}
	for _, s := range []string{origName, origID} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("output still contains %q", s)
		}
	}
	dcmdump(t, out)
}

// Garbage is refused before the library can allocate what its headers claim.
func TestReadRefusesGarbage(t *testing.T) {
	junk := append([]byte("SECRET-RAW-BYTES"), make([]byte, 300)...)
	for name, read := range map[string]func() error{
		"Read":   func() error { _, err := deid.Read(bytes.NewReader(junk), int64(len(junk))); return err },
		"ReadAt": func() error { _, err := deid.ReadAt(bytes.NewReader(junk), int64(len(junk))); return err },
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := read()
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: garbage parsed", name)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 16<<20 {
			t.Errorf("%s: %d MB allocated for %d bytes of garbage", name, d>>20, len(junk))
		}
	}
}
