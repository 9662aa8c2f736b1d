package dicomweb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
)

func dcmWrite(w io.Writer, ds *dcm.Dataset) error { return deid.Write(w, ds) }

// errFrames: the stored pixel data cannot be cut into its frames without
// guessing (no usable offset table, and the fragments do not show the
// frame boundaries unambiguously). Answered 406, never wrong bytes.
var errFrames = errors.New("the frames of this instance cannot be told apart as stored (no offset table, fragments of ambiguous frames)")

// pixelFrames cuts ds's pixel data (kept as stored) into its n frames
// (PS3.5 A.4, 8.2): native pixels by the frame size; encapsulated ones as
// the fragments of each frame joined: a single frame is all fragments; of
// several frames, by the Basic Offset Table, else the Extended Offset Table,
// else one fragment per frame when the counts agree (a fragment never holds
// two frames, a frame has at least one), else, for the JPEG family, at the
// ends of the codestreams found by walking their markers, when every end
// falls on a fragment boundary. Anything else is errFrames.
func pixelFrames(ds *dcm.Dataset, tabs dicom.OffsetTables, n int, ts string) ([][]byte, error) {
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil || e.Value == nil {
		return nil, errFrames
	}
	info, ok := e.Value.GetValue().(dcm.PixelDataInfo)
	if !ok {
		return nil, errFrames
	}
	if info.IsEncapsulated {
		frags := make([][]byte, 0, len(info.Frames))
		for _, f := range info.Frames {
			frags = append(frags, f.EncapsulatedData.Data)
		}
		if out := encapsulatedFrames(frags, tabs, n, ts); out != nil {
			return out, nil
		}
		return nil, errFrames
	}
	data := info.UnprocessedValueData
	rows, cols := intOf(ds, tag.Rows), intOf(ds, tag.Columns)
	spp, bits := max(intOf(ds, tag.SamplesPerPixel), 1), intOf(ds, tag.BitsAllocated)
	if rows <= 0 || cols <= 0 || bits <= 0 || bits%8 != 0 {
		return nil, errFrames
	}
	size := rows * cols * spp * bits / 8
	if size*n > len(data) {
		return nil, errFrames
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = data[i*size : (i+1)*size]
	}
	return out, nil
}

// encapsulatedFrames is pixelFrames for the fragments frags; nil when the
// frames cannot be told apart.
func encapsulatedFrames(frags [][]byte, tabs dicom.OffsetTables, n int, ts string) [][]byte {
	switch {
	case len(frags) == 0:
		return nil
	case n <= 1:
		return [][]byte{bytes.Join(frags, nil)}
	}
	if len(tabs.Basic) > 0 {
		offs := make([]uint64, len(tabs.Basic))
		for i, o := range tabs.Basic {
			offs[i] = uint64(o)
		}
		if out := byOffsets(frags, n, offs); out != nil {
			return out
		}
	}
	if len(tabs.Extended) > 0 {
		if out := byOffsets(frags, n, tabs.Extended); out != nil && trimToLengths(out, tabs.ExtendedLengths) {
			return out
		}
	}
	if len(frags) == n {
		return frags
	}
	if end := codestreamEnd(ts); end != nil {
		return byCodestreams(frags, n, end)
	}
	return nil
}

// byOffsets groups frags by an offset table: offs[i] is the byte offset of
// frame i's first fragment item from the first fragment item (each item has
// an 8-byte header). nil unless there is one offset per frame, the first is
// 0, and each falls on a fragment boundary.
func byOffsets(frags [][]byte, n int, offs []uint64) [][]byte {
	if len(offs) != n || offs[0] != 0 {
		return nil
	}
	out := make([][]byte, 0, n)
	pos, k := uint64(0), 0
	for i := range offs {
		if offs[i] != pos {
			return nil
		}
		end := ^uint64(0)
		if i+1 < len(offs) {
			end = offs[i+1]
		}
		var fr [][]byte
		for k < len(frags) && pos < end {
			fr = append(fr, frags[k])
			pos += 8 + uint64(len(frags[k]))
			k++
		}
		if len(fr) == 0 || (i+1 < len(offs) && pos != end) {
			return nil
		}
		out = append(out, bytes.Join(fr, nil))
	}
	if k != len(frags) {
		return nil
	}
	return out
}

// trimToLengths cuts each frame to its length in the Extended Offset Table
// Lengths (the frame without its padding); none given: the frames stay.
func trimToLengths(frames [][]byte, lengths []uint64) bool {
	if len(lengths) == 0 {
		return true
	}
	if len(lengths) != len(frames) {
		return false
	}
	for i, l := range lengths {
		if l == 0 || l > uint64(len(frames[i])) {
			return false
		}
		frames[i] = frames[i][:l]
	}
	return true
}

// byCodestreams splits frags into n frames at the codestream ends end
// finds: every frame must start at a fragment with a complete codestream
// that ends at a fragment's end (at most one byte of zero padding after
// it). nil otherwise.
func byCodestreams(frags [][]byte, n int, end func([]byte) (int, bool)) [][]byte {
	all := bytes.Join(frags, nil)
	bounds := make(map[int]bool, len(frags))
	at := 0
	for _, f := range frags {
		at += len(f)
		bounds[at] = true
	}
	var out [][]byte
	for pos := 0; pos < len(all); {
		e, ok := end(all[pos:])
		if !ok || len(out) == n {
			return nil
		}
		stop := pos + e
		if !bounds[stop] {
			if stop+1 > len(all) || all[stop] != 0 || !bounds[stop+1] {
				return nil
			}
			stop++
		}
		out = append(out, all[pos:stop])
		pos = stop
	}
	if len(out) != n {
		return nil
	}
	return out
}

// codestreamEnd is the codestream walker of ts's compression (JPEG, JPEG-LS,
// JPEG 2000, HTJ2K); nil for the others (RLE: one fragment per frame).
func codestreamEnd(ts string) func([]byte) (int, bool) {
	switch bitstreamType(ts) {
	case "image/jpeg":
		return func(b []byte) (int, bool) { return jpegEnd(b, false) }
	case "image/jls":
		return func(b []byte) (int, bool) { return jpegEnd(b, true) }
	case "image/jp2", "image/jphc":
		return j2kEnd
	}
	return nil
}

// jpegEnd is the length of the JPEG (ISO 10918) or JPEG-LS (ISO 14495)
// codestream at the start of b, up to and with its EOI: marker segments
// are skipped by their lengths, entropy-coded data scanned to its next
// marker (byte stuffing keeps markers out of it). false unless b starts
// with SOI and the structure holds up to an EOI.
func jpegEnd(b []byte, ls bool) (int, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 0, false
	}
	i := 2
	for i+1 < len(b) {
		if b[i] != 0xFF {
			return 0, false
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD9: // EOI
			return i + 2, true
		case m == 0xD8 || m == 0x00:
			return 0, false
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn
			i += 2
			continue
		}
		if i+4 > len(b) {
			return 0, false
		}
		l := int(b[i+2])<<8 | int(b[i+3])
		if l < 2 || i+2+l > len(b) {
			return 0, false
		}
		i += 2 + l
		if m == 0xDA { // SOS: entropy-coded data up to the next marker
			i = entropyEnd(b, i, ls)
		}
	}
	return 0, false
}

// entropyEnd is the position of the first marker at or after i in
// entropy-coded data, restart markers (which continue the scan) skipped:
// in JPEG a 0xFF in the data is followed by 0x00, in JPEG-LS by a byte
// below 0x80.
func entropyEnd(b []byte, i int, ls bool) int {
	for i+1 < len(b) {
		if b[i] != 0xFF {
			i++
			continue
		}
		m := b[i+1]
		switch {
		case ls && m < 0x80, !ls && m == 0x00:
			i += 2
		case m >= 0xD0 && m <= 0xD7:
			i += 2
		case !ls && m == 0xFF:
			i++
		default:
			return i
		}
	}
	return len(b)
}

// j2kEnd is the length of the JPEG 2000 (or HTJ2K) codestream at the start
// of b, up to and with its EOC: main header marker segments skipped by
// their lengths, tile-parts by their Psot. A tile-part of Psot 0 (up to the
// EOC, wherever it is) is not bounded: false, as for anything malformed.
func j2kEnd(b []byte) (int, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0x4F {
		return 0, false
	}
	i := 2
	for i+1 < len(b) {
		if b[i] != 0xFF {
			return 0, false
		}
		m := b[i+1]
		if m == 0xD9 { // EOC
			return i + 2, true
		}
		if i+4 > len(b) {
			return 0, false
		}
		l := int(b[i+2])<<8 | int(b[i+3])
		if m == 0x90 { // SOT
			if l != 10 || i+12 > len(b) {
				return 0, false
			}
			psot := int(binary.BigEndian.Uint32(b[i+6:]))
			if psot < 14 || i+psot > len(b) {
				return 0, false
			}
			i += psot
			continue
		}
		if l < 2 || i+2+l > len(b) {
			return 0, false
		}
		i += 2 + l
	}
	return 0, false
}

func intOf(ds *dcm.Dataset, t tag.Tag) int {
	e, err := ds.FindElementByTag(t)
	if err != nil || e.Value == nil {
		return 0
	}
	if v, ok := e.Value.GetValue().([]int); ok && len(v) > 0 {
		return v[0]
	}
	return 0
}
