package dicom

import (
	"bytes"
	"encoding/binary"
	"io"
)

// Old CDs and some gateways write DICOM without the 128-byte preamble,
// or without the file meta group at all (a bare data set, as on the
// network). dcmtk reads those; the library needs "DICM" at 128 and a meta
// group naming the transfer syntax. withFileMeta presents such a file as a
// Part 10 file: a preamble, and a meta group whose transfer syntax is
// inferred from the first element (PS3.5 7.1: explicit VR when bytes 4-5
// are a VR, byte order from the group number).

// prefixReader reads prefix followed by r.
type prefixReader struct {
	prefix []byte
	r      io.ReaderAt
}

func (p *prefixReader) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(p.prefix)) {
		n = copy(b, p.prefix[off:])
		if n == len(b) {
			return n, nil
		}
		off = 0
	} else {
		off -= int64(len(p.prefix))
	}
	k, err := p.r.ReadAt(b[n:], off)
	return n + k, err
}

// withFileMeta returns r unchanged when it is a Part 10 file, else a
// reader (and its size) that presents it as one; ok is false when the
// bytes look like no DICOM at all.
func withFileMeta(r io.ReaderAt, size int64) (io.ReaderAt, int64, bool) {
	var head [136]byte
	n, _ := r.ReadAt(head[:], 0)
	h := head[:n]
	if n >= 132 && string(h[128:132]) == "DICM" {
		return r, size, true
	}
	preamble := make([]byte, 128, 256)
	if n >= 4 && string(h[:4]) == "DICM" { // meta group, no preamble
		return &prefixReader{prefix: preamble, r: r}, size + 128, true
	}
	if n < 8 {
		return r, size, false
	}
	le := binary.LittleEndian.Uint16(h[0:2])
	if le == 0x0002 { // meta group without preamble and magic
		return &prefixReader{prefix: append(preamble, "DICM"...), r: r}, size + 132, true
	}
	explicit := isVR(h[4:6])
	ts := tsImplicitLE
	switch {
	case le >= 0x0008 && le <= 0x00FF && explicit:
		ts = tsExplicitLE
	case le >= 0x0008 && le <= 0x00FF:
		// implicit VR little endian: a plausible first group and length
		if binary.LittleEndian.Uint32(h[4:8]) > uint32(size) {
			return r, size, false
		}
	case binary.BigEndian.Uint16(h[0:2]) >= 0x0008 && binary.BigEndian.Uint16(h[0:2]) <= 0x00FF && explicit:
		ts = tsExplicitBE
	default:
		return r, size, false
	}
	meta := fileMeta(ts)
	prefix := append(append(preamble, "DICM"...), meta...)
	return &prefixReader{prefix: prefix, r: r}, size + int64(len(prefix)), true
}

func isVR(b []byte) bool {
	switch string(b) {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW",
		"PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV":
		return true
	}
	return false
}

// fileMeta is a minimal file meta group naming ts.
func fileMeta(ts string) []byte {
	var body bytes.Buffer
	el := func(elem uint16, vr string, v []byte) {
		if len(v)%2 == 1 {
			v = append(v, 0)
		}
		binary.Write(&body, binary.LittleEndian, [2]uint16{0x0002, elem})
		body.WriteString(vr)
		if longVR(vr) {
			body.Write([]byte{0, 0})
			binary.Write(&body, binary.LittleEndian, uint32(len(v)))
		} else {
			binary.Write(&body, binary.LittleEndian, uint16(len(v)))
		}
		body.Write(v)
	}
	el(0x0001, "OB", []byte{0, 1})
	el(0x0010, "UI", []byte(ts))
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, [2]uint16{0x0002, 0x0000})
	out.WriteString("UL")
	binary.Write(&out, binary.LittleEndian, uint16(4))
	binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}
