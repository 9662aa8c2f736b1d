package deid

import (
	"bytes"
	"encoding/binary"
	"slices"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// isSQ reports whether the dictionary (PS3.6, or the table's row) gives tg
// the VR SQ.
func isSQ(tg tag.Tag) bool {
	if r, ok := rowOf[tg]; ok && r.VR == "SQ" {
		return true
	}
	info, err := tag.Find(tg)
	return err == nil && slices.Contains(info.VRs, "SQ")
}

// unSequence makes e, a sequence stored as UN with a defined length, the
// SQ it is, so that the table reaches inside it. Its value is the items in
// implicit VR little endian (PS3.5 6.2.2); the parser reads only UN of
// undefined length as a sequence, and left as bytes the items would keep
// their names, dates, private attributes and original UIDs. ok is false
// when the value does not read as a sequence: the caller removes it, as
// what cannot be read cannot be checked.
func unSequence(e *dcm.Element) (ok bool) {
	if e.Value == nil || e.Value.ValueType() != dcm.Bytes || e.RawValueRepresentation != "UN" || !isSQ(e.Tag) {
		return true
	}
	value := e.Value.GetValue().([]byte)
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	// A file of this one element: a file meta group naming implicit VR
	// little endian, then the element with its dictionary VR implied.
	meta := explicitUI(tag.TransferSyntaxUID, "1.2.840.10008.1.2")
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	b.Write(explicitUL(tag.FileMetaInformationGroupLength, uint32(len(meta))))
	b.Write(meta)
	b.Write(binary.LittleEndian.AppendUint16(nil, e.Tag.Group))
	b.Write(binary.LittleEndian.AppendUint16(nil, e.Tag.Element))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(value))))
	b.Write(value)
	ds, err := dcm.Parse(bytes.NewReader(b.Bytes()), int64(b.Len()), nil, dcm.AllowUnknownSpecificCharacterSet())
	if err != nil {
		return false
	}
	got, err := ds.FindElementByTag(e.Tag)
	if err != nil || got.Value == nil || got.Value.ValueType() != dcm.Sequences {
		return false
	}
	e.RawValueRepresentation, e.ValueRepresentation = "SQ", tag.VRSequence
	e.ValueLength = tag.VLUndefinedLength
	e.Value = got.Value
	return true
}

func explicitUL(tg tag.Tag, v uint32) []byte {
	b := binary.LittleEndian.AppendUint16(nil, tg.Group)
	b = binary.LittleEndian.AppendUint16(b, tg.Element)
	b = append(b, 'U', 'L', 4, 0)
	return binary.LittleEndian.AppendUint32(b, v)
}

func explicitUI(tg tag.Tag, v string) []byte {
	if len(v)%2 == 1 {
		v += "\x00"
	}
	b := binary.LittleEndian.AppendUint16(nil, tg.Group)
	b = binary.LittleEndian.AppendUint16(b, tg.Element)
	b = append(b, 'U', 'I')
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}
