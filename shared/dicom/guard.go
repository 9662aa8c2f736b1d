package dicom

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// The library allocates every value at the length its header claims (up to
// 4 GB) before reading it. checkLengths walks the element structure first
// and refuses a file whose lengths point past its end, so hostile or broken
// input costs a small read instead of gigabytes. When the walk meets
// something it does not model, it stops and lets the library decide.

var (
	errLength   = errors.New("element length beyond the end of the file")
	errInflated = errors.New("deflated data set inflates beyond the allowed ratio")
)

// Bounds of the inflated size of a deflated data set: real files compress a
// few times; a thousandfold ratio is a bomb.
const (
	maxDeflateRatio = 32
	minInflated     = 64 << 20
	maxInflated     = 1 << 30
)

func inflateLimit(compressed int64) int64 {
	n := compressed * maxDeflateRatio
	return min(max(n, minInflated), maxInflated)
}

const undefinedLength = 0xFFFFFFFF

type source interface {
	read(n int) ([]byte, error) // io.EOF only at a clean element boundary
	skip(n int64) error
}

type atSource struct {
	r         io.ReaderAt
	pos, size int64
	buf       [12]byte
}

func (s *atSource) read(n int) ([]byte, error) {
	if s.pos >= s.size {
		return nil, io.EOF
	}
	if s.pos+int64(n) > s.size {
		return nil, errLength
	}
	b := s.buf[:n]
	if _, err := s.r.ReadAt(b, s.pos); err != nil {
		return nil, errLength
	}
	s.pos += int64(n)
	return b, nil
}

func (s *atSource) skip(n int64) error {
	if n < 0 || s.pos+n > s.size {
		return errLength
	}
	s.pos += n
	return nil
}

type streamSource struct {
	r   *bufio.Reader
	buf [12]byte
}

func (s *streamSource) read(n int) ([]byte, error) {
	b := s.buf[:n]
	k, err := io.ReadFull(s.r, b)
	if k == 0 && err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, errLength
	}
	return b, nil
}

func (s *streamSource) skip(n int64) error {
	if k, _ := io.CopyN(io.Discard, s.r, n); k != n {
		return errLength
	}
	return nil
}

// explicit VRs with a 4-byte length (PS3.5 7.1.2).
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV":
		return true
	}
	return false
}

func checkLengths(r io.ReaderAt, size int64) error {
	_, err := checkAndPatch(r, size)
	return err
}

// walkInfo is what the length walk learns on the way.
type walkInfo struct {
	// patches make undefined-length UN elements readable (see patchedReader).
	patches []patch
	// bot is the Basic Offset Table of the last encapsulated pixel data
	// (the image's own, after any icon): frame offsets into the fragments.
	bot []uint32
	// eot and eotLengths are the Extended Offset Table (7FE0,0001) and its
	// lengths (7FE0,0002), nil when absent.
	eot, eotLengths []uint64
	// resolvedUN counts the UN elements given their dictionary VR (ResolveUN).
	resolvedUN int
	// pixels are the byte ranges of native pixel data values, which a
	// header read skips without reading them (holeReader).
	pixels []patch
}

// checkAndPatch is checkLengths that also returns what the walk learnt.
func checkAndPatch(r io.ReaderAt, size int64) (*walkInfo, error) {
	info := &walkInfo{}
	err := checkLengthsInto(r, size, info)
	return info, err
}

func checkLengthsInto(r io.ReaderAt, size int64, info *walkInfo) error {
	var magic [4]byte
	if size < 132 {
		return ErrNotDICOM
	}
	if _, err := r.ReadAt(magic[:], 128); err != nil || string(magic[:]) != "DICM" {
		return ErrNotDICOM
	}
	src := &atSource{r: r, pos: 132, size: size}
	// File meta group: explicit VR little endian, always.
	ts := ""
	for {
		start := src.pos
		b, err := src.read(2)
		if err != nil {
			return err
		}
		if binary.LittleEndian.Uint16(b) != 0x0002 {
			src.pos = start
			break
		}
		b, err = src.read(6)
		if err != nil {
			return err
		}
		elem, vr := binary.LittleEndian.Uint16(b), string(b[2:4])
		vl := int64(binary.LittleEndian.Uint16(b[4:6]))
		if longVR(vr) {
			b, err = src.read(4)
			if err != nil {
				return err
			}
			vl = int64(binary.LittleEndian.Uint32(b))
		}
		if vl == undefinedLength || src.pos+vl > size {
			return errLength
		}
		if elem == 0x0010 && vl <= 64 {
			v := make([]byte, vl)
			if _, err := r.ReadAt(v, src.pos); err == nil {
				ts = string(bytes.TrimRight(v, " \x00"))
			}
		}
		src.pos += vl
	}
	w := walker{explicit: true, order: binary.LittleEndian, info: info}
	switch ts {
	case tsImplicitLE:
		w.explicit = false
	case tsExplicitBE:
		w.order = binary.BigEndian
	case tsDeflated:
		// A deflate bomb claims a huge element inside a small file: the
		// lengths fit the inflated stream, so only a cap on the inflated
		// size (a ratio of the compressed size, within bounds) stops it.
		fr := flate.NewReader(io.NewSectionReader(r, src.pos, size-src.pos))
		defer fr.Close()
		lr := &io.LimitedReader{R: fr, N: inflateLimit(size - src.pos)}
		if err := w.walk(&streamSource{r: bufio.NewReader(lr)}); err != nil {
			return err
		}
		if lr.N <= 0 {
			return errInflated
		}
		return nil
	}
	return w.walk(src)
}

type walker struct {
	explicit bool
	order    binary.ByteOrder
	info     *walkInfo
}

func (w walker) walk(src source) error {
	for {
		b, err := src.read(4)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		group, elem := w.order.Uint16(b), w.order.Uint16(b[2:])
		if group == 0xFFFE { // item and delimiters: always a 4-byte length
			b, err := src.read(4)
			if err != nil {
				return err
			}
			vl := w.order.Uint32(b)
			if elem == 0xE000 && vl != undefinedLength {
				if err := checkOnly(src, int64(vl)); err != nil {
					return err
				}
			}
			continue // item contents are elements: walk into them
		}
		var vr string
		var vl uint32
		if w.explicit {
			b, err := src.read(4)
			if err != nil {
				return err
			}
			vr = string(b[:2])
			if s, ok := src.(*atSource); ok && w.info != nil && (vr == "OV" || vr == "SV" || vr == "UV") {
				// The parser reads these 64-bit VRs with a 2-byte length;
				// as OB (the same 4-byte length layout) it keeps them as
				// opaque bytes (the Extended Offset Table is OV).
				w.info.patches = append(w.info.patches, patch{off: s.pos - 4, val: 'O' | 'B'<<8})
			}
			if longVR(vr) {
				b, err = src.read(4)
				if err != nil {
					return err
				}
				vl = w.order.Uint32(b)
			} else {
				vl = uint32(w.order.Uint16(b[2:]))
			}
		} else {
			b, err := src.read(4)
			if err != nil {
				return err
			}
			vl = w.order.Uint32(b)
			if info, err := tag.Find(tag.Tag{Group: group, Element: elem}); err == nil && len(info.VRs) > 0 {
				vr = info.VRs[0]
			}
		}
		isPixel := group == 0x7FE0 && elem == 0x0010
		switch {
		case vl == undefinedLength && isPixel:
			return w.fragments(src)
		case vl == undefinedLength && vr == "SQ":
			continue
		case vl == undefinedLength && vr == "UN" && w.info != nil && w.order == binary.LittleEndian:
			// Contents in implicit VR (PS3.5 6.2.2): the library would read
			// them as explicit. Give the element its length instead, so it
			// is kept as opaque bytes.
			s, ok := src.(*atSource)
			if !ok {
				return nil
			}
			n, err := implicitSeqLen(s.r, s.pos, s.size)
			if err != nil {
				return err
			}
			if n >= undefinedLength {
				return errLength
			}
			w.info.patches = append(w.info.patches, patch{off: s.pos - 4, val: uint32(n)})
			s.pos += n
		case vl == undefinedLength:
			return nil // not modelled, let the library judge
		case vr == "SQ":
			if err := checkOnly(src, int64(vl)); err != nil {
				return err
			}
		default:
			if s, ok := src.(*atSource); ok && group == 0x7FE0 && (elem == 0x0001 || elem == 0x0002) && w.info != nil {
				v := readUint64s(s, vl, w.order)
				if elem == 0x0001 {
					w.info.eot = v
				} else {
					w.info.eotLengths = v
				}
			}
			if s, ok := src.(*atSource); ok && isPixel && w.info != nil {
				w.info.pixels = append(w.info.pixels, patch{off: s.pos, val: vl})
			}
			if err := src.skip(int64(vl)); err != nil {
				return err
			}
		}
	}
}

// fragments skips encapsulated pixel data items up to the sequence delimiter.
func (w walker) fragments(src source) error {
	for first := true; ; first = false {
		b, err := src.read(8)
		if err != nil {
			return err
		}
		group, elem, vl := w.order.Uint16(b), w.order.Uint16(b[2:]), w.order.Uint32(b[4:])
		if group != 0xFFFE {
			return nil
		}
		if elem == 0xE0DD {
			return w.walk(src)
		}
		if vl == undefinedLength {
			return errLength
		}
		if s, ok := src.(*atSource); ok && first && w.info != nil {
			// The Basic Offset Table: read it (bounded by the file, checked below).
			w.info.bot = nil
			if vl%4 == 0 && s.pos+int64(vl) <= s.size && vl <= 1<<24 {
				raw := make([]byte, vl)
				if _, err := s.r.ReadAt(raw, s.pos); err == nil {
					for i := 0; i+4 <= len(raw); i += 4 {
						w.info.bot = append(w.info.bot, w.order.Uint32(raw[i:]))
					}
				}
			}
		}
		if err := src.skip(int64(vl)); err != nil {
			return err
		}
	}
}

// readUint64s reads the value of vl bytes at s's position as 64-bit
// words (an OV value), nil when it does not fit the file or is too large.
func readUint64s(s *atSource, vl uint32, order binary.ByteOrder) []uint64 {
	if vl%8 != 0 || s.pos+int64(vl) > s.size || vl > 1<<24 {
		return nil
	}
	raw := make([]byte, vl)
	if _, err := s.r.ReadAt(raw, s.pos); err != nil {
		return nil
	}
	out := make([]uint64, 0, vl/8)
	for i := 0; i+8 <= len(raw); i += 8 {
		out = append(out, order.Uint64(raw[i:]))
	}
	return out
}

// checkOnly verifies a container length fits without moving past it (its
// contents are walked as elements next).
func checkOnly(src source, n int64) error {
	if s, ok := src.(*atSource); ok {
		if s.pos+n > s.size {
			return errLength
		}
	}
	return nil
}

// patch replaces the 4-byte little-endian value at off.
type patch struct {
	off int64
	val uint32
}

type patchedReader struct {
	r       io.ReaderAt
	patches []patch
}

func (p *patchedReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	for _, pt := range p.patches {
		var v [4]byte
		binary.LittleEndian.PutUint32(v[:], pt.val)
		for i := int64(0); i < 4; i++ {
			if j := pt.off + i - off; j >= 0 && j < int64(n) {
				b[j] = v[i]
			}
		}
	}
	return n, err
}

// holeReader reads zeros for the native pixel data values (holes: offset
// and length) without reading them: the library's SkipPixelData reads
// through what it skips, a whole file for a header.
type holeReader struct {
	r     io.ReaderAt
	holes []patch
}

func (h *holeReader) ReadAt(b []byte, off int64) (int, error) {
	for _, hole := range h.holes {
		start, end := hole.off, hole.off+int64(hole.val)
		if off >= start && off < end {
			n := int64(len(b))
			if off+n > end {
				n = end - off
			}
			clear(b[:n])
			if n == int64(len(b)) {
				return int(n), nil
			}
			k, err := h.ReadAt(b[n:], off+n)
			return int(n) + k, err
		}
		if off < start && off+int64(len(b)) > start {
			k, err := h.r.ReadAt(b[:start-off], off)
			if err != nil {
				return k, err
			}
			m, err := h.ReadAt(b[start-off:], start)
			return k + m, err
		}
	}
	return h.r.ReadAt(b, off)
}

// implicitSeqLen is the length of an undefined-length sequence in
// implicit VR little endian starting at pos, up to and including its
// sequence delimitation item.
func implicitSeqLen(r io.ReaderAt, pos, size int64) (int64, error) {
	start := pos
	depth := 0
	var b [8]byte
	for {
		if pos+8 > size {
			return 0, errLength
		}
		if _, err := r.ReadAt(b[:], pos); err != nil {
			return 0, errLength
		}
		pos += 8
		group, elem := binary.LittleEndian.Uint16(b[0:]), binary.LittleEndian.Uint16(b[2:])
		vl := binary.LittleEndian.Uint32(b[4:])
		switch {
		case group == 0xFFFE && elem == 0xE0DD:
			if depth == 0 {
				return pos - start, nil
			}
			depth--
		case group == 0xFFFE && elem == 0xE000 && vl != undefinedLength:
			pos += int64(vl) // a defined-length item: skip it whole
		case group == 0xFFFE:
			// undefined-length item or item delimiter: walk on
		case vl == undefinedLength:
			depth++ // a nested sequence
		default:
			pos += int64(vl)
		}
		if pos > size {
			return 0, errLength
		}
	}
}
