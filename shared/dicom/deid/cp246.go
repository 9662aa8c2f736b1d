package deid

import (
	"encoding/binary"
	"errors"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// A sequence that a sending system did not know may be stored, in an
// explicit VR file, as UN of undefined length whose items are encoded in
// implicit VR little endian (PS3.5 6.2.2, CP-246); dcmtk reads such files.
// The parser reads those items as explicit VR and fails, which would leave
// the whole file out of a de-identified set. explicitUNSequences rewrites
// such a data set (explicit VR little endian, after the file meta group)
// so that every UN of undefined length becomes an SQ with its items in
// explicit VR, the VR of each nested element taken from the dictionary
// (UN where unknown). Sequences and items it passes through are written
// with undefined length, so no length needs recomputing.

var errCP246 = errors.New("deid: malformed data set")

// longVR are the explicit VRs with a reserved field and a 4-byte length.
var longVR = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true}

const undefined = 0xFFFFFFFF

type cp246 struct {
	in  []byte
	pos int
	out []byte
}

func (c *cp246) u16() (uint16, error) {
	if c.pos+2 > len(c.in) {
		return 0, errCP246
	}
	v := binary.LittleEndian.Uint16(c.in[c.pos:])
	c.pos += 2
	return v, nil
}

func (c *cp246) u32() (uint32, error) {
	if c.pos+4 > len(c.in) {
		return 0, errCP246
	}
	v := binary.LittleEndian.Uint32(c.in[c.pos:])
	c.pos += 4
	return v, nil
}

// explicitVRLength reads an explicit VR element's VR and value length (PS3.5
// 7.1.2: 4-byte lengths after two reserved bytes for the long VRs).
func (c *cp246) explicitVRLength() (string, uint32, error) {
	if c.pos+2 > len(c.in) {
		return "", 0, errCP246
	}
	vr := string(c.in[c.pos : c.pos+2])
	c.pos += 2
	if longVR[vr] {
		c.pos += 2
		n, err := c.u32()
		return vr, n, err
	}
	n, err := c.u16()
	return vr, uint32(n), err
}

func (c *cp246) tagAt() (tag.Tag, error) {
	g, err := c.u16()
	if err != nil {
		return tag.Tag{}, err
	}
	e, err := c.u16()
	return tag.Tag{Group: g, Element: e}, err
}

func (c *cp246) putTag(t tag.Tag) {
	c.out = binary.LittleEndian.AppendUint16(c.out, t.Group)
	c.out = binary.LittleEndian.AppendUint16(c.out, t.Element)
}

func (c *cp246) putHeader(t tag.Tag, vr string, n uint32) {
	c.putTag(t)
	c.out = append(c.out, vr...)
	if longVR[vr] {
		c.out = append(c.out, 0, 0)
		c.out = binary.LittleEndian.AppendUint32(c.out, n)
		return
	}
	c.out = binary.LittleEndian.AppendUint16(c.out, uint16(n))
}

func (c *cp246) copyValue(n uint32) error {
	if uint64(c.pos)+uint64(n) > uint64(len(c.in)) {
		return errCP246
	}
	c.out = append(c.out, c.in[c.pos:c.pos+int(n)]...)
	c.pos += int(n)
	return nil
}

// explicitUNSequences rewrites the explicit VR little endian data set ds.
func explicitUNSequences(ds []byte) ([]byte, error) {
	c := &cp246{in: ds, out: make([]byte, 0, len(ds)+1024)}
	if err := c.elements(true, len(ds), 0); err != nil {
		return nil, err
	}
	return c.out, nil
}

// elements copies elements until end (a byte offset) or, with end < 0, an
// item delimiter (written).
func (c *cp246) elements(explicit bool, end, depth int) error {
	if depth > 64 {
		return errCP246
	}
	for end < 0 || c.pos < end {
		t, err := c.tagAt()
		if err != nil {
			return err
		}
		if t == tag.ItemDelimitationItem {
			if _, err := c.u32(); err != nil {
				return err
			}
			c.putTag(t)
			c.out = binary.LittleEndian.AppendUint32(c.out, 0)
			return nil
		}
		vr, n := "", uint32(0)
		if explicit {
			vr, n, err = c.explicitVRLength()
		} else {
			n, err = c.u32()
			vr = "UN"
			if info, ferr := tag.Find(t); ferr == nil && len(info.VRs) > 0 && len(info.VRs[0]) == 2 {
				vr = info.VRs[0]
			}
			if t.Group%2 == 1 && t.Element >= 0x0010 && t.Element <= 0x00FF {
				vr = "LO" // private creator
			}
		}
		if err != nil {
			return err
		}
		switch {
		case vr == "SQ" || n == undefined && (vr == "UN" || !explicit):
			// A sequence (an implicit UN of undefined length is one too):
			// its items in the encoding they have, written explicit.
			inner := explicit && vr == "SQ"
			c.putHeader(t, "SQ", undefined)
			if err := c.items(inner, n, depth+1); err != nil {
				return err
			}
		case n == undefined:
			// Encapsulated pixel data: fragments of defined length.
			c.putHeader(t, vr, undefined)
			if err := c.fragments(); err != nil {
				return err
			}
		default:
			if !longVR[vr] && n > 0xFFFF {
				vr = "UN"
			}
			c.putHeader(t, vr, n)
			if err := c.copyValue(n); err != nil {
				return err
			}
		}
	}
	if end >= 0 && c.pos != end {
		return errCP246
	}
	return nil
}

// items copies the items of a sequence of length n (or undefined), each
// written with undefined length, then a sequence delimiter.
func (c *cp246) items(explicit bool, n uint32, depth int) error {
	end := -1
	if n != undefined {
		end = c.pos + int(n)
		if end > len(c.in) {
			return errCP246
		}
	}
	for end < 0 || c.pos < end {
		t, err := c.tagAt()
		if err != nil {
			return err
		}
		l, err := c.u32()
		if err != nil {
			return err
		}
		if t == tag.SequenceDelimitationItem {
			break
		}
		if t != tag.Item {
			return errCP246
		}
		c.putTag(tag.Item)
		c.out = binary.LittleEndian.AppendUint32(c.out, undefined)
		if l == undefined {
			if err := c.elements(explicit, -1, depth); err != nil {
				return err
			}
			continue
		}
		if uint64(c.pos)+uint64(l) > uint64(len(c.in)) {
			return errCP246
		}
		if err := c.elements(explicit, c.pos+int(l), depth); err != nil {
			return err
		}
		c.putTag(tag.ItemDelimitationItem)
		c.out = binary.LittleEndian.AppendUint32(c.out, 0)
	}
	if end >= 0 && c.pos != end {
		return errCP246
	}
	c.putTag(tag.SequenceDelimitationItem)
	c.out = binary.LittleEndian.AppendUint32(c.out, 0)
	return nil
}

// fragments copies the items of encapsulated pixel data up to and with
// the sequence delimiter.
func (c *cp246) fragments() error {
	for {
		t, err := c.tagAt()
		if err != nil {
			return err
		}
		l, err := c.u32()
		if err != nil {
			return err
		}
		c.putTag(t)
		c.out = binary.LittleEndian.AppendUint32(c.out, l)
		if t == tag.SequenceDelimitationItem {
			return nil
		}
		if t != tag.Item || l == undefined {
			return errCP246
		}
		if err := c.copyValue(l); err != nil {
			return err
		}
	}
}
