package dicom

import (
	"encoding/binary"
	"errors"
	"math"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// palette is the Palette Color Lookup Table of a PALETTE COLOR image
// (PS3.3 C.7.6.3.1.5-6), each colour reduced to 8-bit output values.
type palette struct {
	first [3]int     // first stored value mapped, per colour
	lut   [3][]uint8 // entries, per colour
}

var errPalette = errors.New("bad palette color lookup table")

var (
	paletteDescriptors = [3]tag.Tag{tag.RedPaletteColorLookupTableDescriptor, tag.GreenPaletteColorLookupTableDescriptor, tag.BluePaletteColorLookupTableDescriptor}
	paletteData        = [3]tag.Tag{tag.RedPaletteColorLookupTableData, tag.GreenPaletteColorLookupTableData, tag.BluePaletteColorLookupTableData}
	paletteSegmented   = [3]tag.Tag{tag.SegmentedRedPaletteColorLookupTableData, tag.SegmentedGreenPaletteColorLookupTableData, tag.SegmentedBluePaletteColorLookupTableData}
)

// readPalette reads the three lookup tables, plain or segmented (C.7.9.2).
func readPalette(ds dcm.Dataset, signed bool) (*palette, error) {
	p := &palette{}
	for c := range 3 {
		d := ints(ds, paletteDescriptors[c])
		if len(d) != 3 {
			return nil, errPalette
		}
		// Number of entries (0 means 65536), first value mapped (US or SS as
		// the pixels are), bits per entry.
		n := d[0] & 0xFFFF
		if n == 0 {
			n = 1 << 16
		}
		first := d[1] & 0xFFFF
		if signed {
			first = int(int16(uint16(first)))
		}
		bits := d[2]
		if bits != 8 && bits != 16 {
			return nil, errPalette
		}
		var entries []uint16
		if b := owBytes(ds, paletteData[c]); b != nil {
			entries = plainEntries(b, n, bits)
		} else if b := owBytes(ds, paletteSegmented[c]); b != nil {
			entries = expandSegmented(segmentItems(b, bits), n, bits/8)
		}
		if len(entries) == 0 {
			return nil, errPalette
		}
		// A table that says 16 bits but holds only 8-bit values is an
		// 8-bit table (dcmtk reads it so too).
		if bits == 16 {
			maxV := uint16(0)
			for _, v := range entries {
				maxV = max(maxV, v)
			}
			if maxV < 256 {
				bits = 8
			}
		}
		out := make([]uint8, len(entries))
		for i, v := range entries {
			if bits == 16 {
				out[i] = uint8(v >> 8)
			} else {
				out[i] = uint8(v)
			}
		}
		p.first[c], p.lut[c] = first, out
	}
	return p, nil
}

// plainEntries reads n entries: 8-bit entries packed two to a word (or, in
// older files, one per word), 16-bit entries one per word.
func plainEntries(b []byte, n, bits int) []uint16 {
	words := len(b) / 2
	out := make([]uint16, 0, n)
	switch {
	case bits == 8 && words == (n+1)/2:
		for i := 0; i < n; i++ {
			out = append(out, uint16(b[i]))
		}
	case words >= n:
		for i := 0; i < n; i++ {
			out = append(out, binary.LittleEndian.Uint16(b[2*i:]))
		}
	case words > 0: // shorter than announced: use what is there
		for i := 0; i < words; i++ {
			out = append(out, binary.LittleEndian.Uint16(b[2*i:]))
		}
	}
	return out
}

// segmentItems splits segmented LUT data into its items: bytes for an
// 8-bit table, words for a 16-bit one.
func segmentItems(b []byte, bits int) []uint16 {
	if bits == 8 {
		out := make([]uint16, len(b))
		for i, x := range b {
			out[i] = uint16(x)
		}
		return out
	}
	out := make([]uint16, len(b)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out
}

// expandSegmented expands segmented LUT data (PS3.3 C.7.9.2) into at most
// n entries: discrete segments (opcode 0) copy their values, linear ones
// (1) ramp from the previous value to their end value, indirect ones (2)
// repeat earlier segments found by their byte offset; items are itemBytes
// long. nil when malformed.
func expandSegmented(items []uint16, n, itemBytes int) []uint16 {
	out := make([]uint16, 0, n)
	var run func(pos, segments, depth int) (int, bool)
	// run expands segments from item pos: all of them when segments < 0.
	run = func(pos, segments, depth int) (int, bool) {
		for done := 0; segments < 0 || done < segments; done++ {
			if pos+1 >= len(items) || len(out) >= n {
				return pos, segments < 0 || len(out) >= n
			}
			op, length := items[pos], int(items[pos+1])
			pos += 2
			switch op {
			case 0:
				if pos+length > len(items) {
					return pos, false
				}
				for _, v := range items[pos : pos+length] {
					if len(out) < n {
						out = append(out, v)
					}
				}
				pos += length
			case 1:
				if len(out) == 0 || pos >= len(items) {
					return pos, false
				}
				y0, y1 := float64(out[len(out)-1]), float64(items[pos])
				pos++
				for i := 1; i <= length && len(out) < n; i++ {
					out = append(out, uint16(math.Round(y0+(y1-y0)*float64(i)/float64(length))))
				}
			case 2:
				// Offset: 32 bits, low half first, in bytes from the start
				// of the data. An indirect segment may not nest another.
				var off int
				if itemBytes == 1 {
					if pos+4 > len(items) {
						return pos, false
					}
					off = int(items[pos]) | int(items[pos+1])<<8 | int(items[pos+2])<<16 | int(items[pos+3])<<24
					pos += 4
				} else {
					if pos+2 > len(items) {
						return pos, false
					}
					off = (int(items[pos]) | int(items[pos+1])<<16) / 2
					pos += 2
				}
				if depth > 0 || len(out) == 0 || off < 0 || off >= len(items) {
					return pos, false
				}
				if _, ok := run(off, length, depth+1); !ok {
					return pos, false
				}
			default:
				return pos, false
			}
		}
		return pos, true
	}
	if _, ok := run(0, -1, 0); !ok || len(out) == 0 {
		return nil
	}
	return out
}

// ints returns the values of a US/SS element.
func ints(ds dcm.Dataset, t tag.Tag) []int {
	e, err := ds.FindElementByTag(t)
	if err != nil || e.Value == nil {
		return nil
	}
	v, _ := e.Value.GetValue().([]int)
	return v
}

// owBytes returns the bytes of an OB/OW element (OW words little endian).
func owBytes(ds dcm.Dataset, t tag.Tag) []byte {
	e, err := ds.FindElementByTag(t)
	if err != nil || e.Value == nil {
		return nil
	}
	b, _ := e.Value.GetValue().([]byte)
	if len(b) == 0 {
		return nil
	}
	return b
}

// palettePixels maps stored values through the palette to RGBA: below the
// first mapped value the first entry, past the table the last one.
func palettePixels(m *Meta, p *palette, raw any, n int) ([]uint8, error) {
	var alloc int
	switch r := raw.(type) {
	case []uint8:
		alloc = 8
		if len(r) < n {
			return nil, ErrNoPreview
		}
	case []uint16:
		alloc = 16
		if len(r) < n {
			return nil, ErrNoPreview
		}
	default:
		return nil, ErrNoPreview
	}
	dec := newStoredDecoder(m, alloc)
	// One RGBA word per possible raw sample.
	lut := make([]uint32, 1<<alloc)
	for raw := range lut {
		v := int(dec.value(uint32(raw)))
		var px uint32
		for c := range 3 {
			t := p.lut[c]
			i := min(max(v-p.first[c], 0), len(t)-1)
			px |= uint32(t[i]) << (8 * c)
		}
		lut[raw] = px | 0xFF<<24
	}
	out := make([]uint8, 4*n)
	put := func(i int, px uint32) {
		binary.LittleEndian.PutUint32(out[4*i:], px)
	}
	switch r := raw.(type) {
	case []uint8:
		for i := 0; i < n; i++ {
			put(i, lut[r[i]])
		}
	case []uint16:
		for i := 0; i < n; i++ {
			put(i, lut[r[i]])
		}
	}
	return out, nil
}
