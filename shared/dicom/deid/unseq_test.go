package deid_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// implicitEl is one implicit VR little endian element (PS3.5 7.1.3).
func implicitEl(tg tag.Tag, v []byte) []byte {
	if len(v)%2 == 1 {
		v = append(v, ' ')
	}
	b := binary.LittleEndian.AppendUint16(nil, tg.Group)
	b = binary.LittleEndian.AppendUint16(b, tg.Element)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// TestUNSequenceOfDefinedLength: a sequence stored as UN with a defined
// length (PS3.5 6.2.2: its value is the items in implicit VR little
// endian, as written by a system that did not know the attribute) is
// de-identified like the SQ it is: what the table removes inside it goes,
// its instance UIDs are replaced. Radiopharmaceutical Information Sequence
// is kept by the profile; its start and stop date-times (X) are not, and
// a Referenced Series Sequence (kept) carries the original UIDs.
func TestUNSequenceOfDefinedLength(t *testing.T) {
	const (
		study  = "1.2.826.0.1.3680043.9.7"
		refSer = "1.2.826.0.1.3680043.9.7.99"
		refSOP = "1.2.826.0.1.3680043.9.7.99.1"
		start  = "20190305101112"
	)
	raw, err := rd.Synth{StudyUID: study, SeriesUID: study + ".1", SOPUID: study + ".1.1", PatientID: origID,
		PatientName: origName, Rows: 4, Cols: 4, BitsAllocated: 8, Pixel: func(f, i, s int) int { return i }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ds := parse(t, raw)
	item := func(els ...[]byte) []byte {
		body := bytes.Join(els, nil)
		b := binary.LittleEndian.AppendUint16(nil, 0xFFFE)
		b = binary.LittleEndian.AppendUint16(b, 0xE000)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
		return append(b, body...)
	}
	un := func(tg tag.Tag, value []byte) *dcm.Element {
		v, err := dcm.NewValue(value)
		if err != nil {
			t.Fatal(err)
		}
		return rawEl(tg, "UN", v)
	}
	radio := item(
		implicitEl(tag.Tag{Group: 0x0018, Element: 0x0031}, []byte("FDG")),    // Radiopharmaceutical: kept
		implicitEl(tag.Tag{Group: 0x0018, Element: 0x1078}, []byte(start)),    // Start DateTime: X
		implicitEl(tag.Tag{Group: 0x0018, Element: 0x1079}, []byte(start)),    // Stop DateTime: X
		implicitEl(tag.PatientName, []byte(origName)),                         // misplaced name
		implicitEl(tag.Tag{Group: 0x0009, Element: 0x0010}, []byte("ACME")),   // private creator
		implicitEl(tag.Tag{Group: 0x0009, Element: 0x1001}, []byte(origPriv)), // private value
	)
	series := item(
		implicitEl(tag.SeriesInstanceUID, []byte(refSer+"\x00")),
		implicitEl(tag.ReferencedInstanceSequence, item(
			implicitEl(tag.ReferencedSOPClassUID, []byte("1.2.840.10008.5.1.4.1.1.2\x00")),
			implicitEl(tag.ReferencedSOPInstanceUID, []byte(refSOP+"\x00")),
		)),
	)
	for _, e := range []*dcm.Element{
		un(tag.Tag{Group: 0x0054, Element: 0x0016}, radio),  // Radiopharmaceutical Information Sequence
		un(tag.Tag{Group: 0x0008, Element: 0x1115}, series), // Referenced Series Sequence
		// Energy Window Information Sequence whose value is no sequence:
		// what cannot be read cannot be checked, so it goes.
		un(tag.Tag{Group: 0x0054, Element: 0x0012}, []byte("GARBAGE-"+origName)),
	} {
		ds.Elements = insert(ds.Elements, e)
	}
	var in bytes.Buffer
	if err := dcm.Write(&in, ds, dcm.SkipVRVerification()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(in.Bytes(), []byte(start)) || !bytes.Contains(in.Bytes(), []byte(refSOP)) {
		t.Fatal("the test file lacks its UN sequences")
	}
	out := rewrite(t, in.Bytes(), deid.NewUIDMap())
	back := parse(t, out)
	if _, err := back.FindElementByTag(tag.Tag{Group: 0x0054, Element: 0x0012}); err == nil {
		t.Error("an unreadable UN sequence was kept")
	}
	for _, s := range []string{start, origName, origPriv, refSer, refSOP, "Vandermeulen"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%q survives inside a UN sequence", s)
		}
	}
	e, err := back.FindElementByTag(tag.Tag{Group: 0x0054, Element: 0x0016})
	if err != nil || e.Value.ValueType() != dcm.Sequences {
		t.Errorf("Radiopharmaceutical Information Sequence not kept as a sequence: %v %v", e, err)
	}
	if !bytes.Contains(out, []byte("FDG")) {
		t.Error("the kept Radiopharmaceutical (0018,0031) went with the sequence")
	}
	dcmdump(t, out)
}

// TestUNSequenceOfUndefinedLength: in an explicit VR file, a sequence
// stored as UN of undefined length has its items in implicit VR (PS3.5
// 6.2.2, CP-246; dcmtk reads it). Such a valid file is de-identified like
// any other, not refused (refused, it would be missing from every
// anonymized download of its study): the sequence is kept as SQ, what the
// table removes inside it goes.
func TestUNSequenceOfUndefinedLength(t *testing.T) {
	const start = "20190305101112"
	raw, err := rd.Synth{StudyUID: "1.2.826.0.1.3680043.9.8", SeriesUID: "1.2.826.0.1.3680043.9.8.1",
		SOPUID: "1.2.826.0.1.3680043.9.8.1.1", PatientID: origID, PatientName: origName, Rows: 4, Cols: 4,
		BitsAllocated: 8, Pixel: func(f, i, s int) int { return i }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pd := bytes.Index(raw, []byte{0xE0, 0x7F, 0x10, 0x00, 'O'})
	if pd < 0 {
		t.Fatal("no pixel data in the synthetic file")
	}
	var u []byte
	u = binary.LittleEndian.AppendUint16(u, 0x0054)
	u = binary.LittleEndian.AppendUint16(u, 0x0016)
	u = append(u, 'U', 'N', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF)
	u = append(u, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF) // item, undefined length
	u = append(u, implicitEl(tag.Tag{Group: 0x0018, Element: 0x0031}, []byte("FDG"))...)
	u = append(u, implicitEl(tag.Tag{Group: 0x0018, Element: 0x1078}, []byte(start))...)
	u = append(u, implicitEl(tag.PatientName, []byte(origName))...)
	u = append(u, 0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0) // item delimiter
	item := implicitEl(tag.Tag{Group: 0x0018, Element: 0x1079}, []byte(start))
	u = append(u, 0xFE, 0xFF, 0x00, 0xE0) // item of defined length
	u = binary.LittleEndian.AppendUint32(u, uint32(len(item)))
	u = append(u, item...)
	u = append(u, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0) // sequence delimiter
	in := append(append(append([]byte{}, raw[:pd]...), u...), raw[pd:]...)
	dcmdump(t, in) // dcmtk reads the original
	// ReadAt, as the download reads stored files.
	ds, err := deid.ReadAt(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	if err := deid.Apply(ds, deid.Options{PatientName: deid.PseudonymName("123456"), PatientID: "123456", UIDs: deid.NewUIDMap()}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := deid.Write(&buf, ds); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	for _, s := range []string{start, origName, "Vandermeulen"} {
		if bytes.Contains(out, []byte(s)) {
			t.Errorf("%q survives inside a UN sequence", s)
		}
	}
	back := parse(t, out)
	e, err := back.FindElementByTag(tag.Tag{Group: 0x0054, Element: 0x0016})
	if err != nil || e.Value.ValueType() != dcm.Sequences || len(e.Value.GetValue().([]*dcm.SequenceItemValue)) != 2 {
		t.Errorf("Radiopharmaceutical Information Sequence not kept with its two items: %v %v", e, err)
	}
	if !bytes.Contains(out, []byte("FDG")) {
		t.Error("the kept Radiopharmaceutical (0018,0031) went")
	}
	if !bytes.Equal(pixels(t, out), pixels(t, raw)) {
		t.Error("pixel data changed")
	}
	dcmdump(t, out)
}
