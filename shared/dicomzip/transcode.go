package dicomzip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/dicomdir"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Transfer syntaxes the download writes as they are or converts.
const (
	implicitVRLittleEndian = "1.2.840.10008.1.2"
	explicitVRLittleEndian = "1.2.840.10008.1.2.1"
	deflatedExplicitVRLE   = "1.2.840.10008.1.2.1.99"
	explicitVRBigEndian    = "1.2.840.10008.1.2.2"
)

const undefined = 0xFFFFFFFF

var errTranscode = errors.New("dicomzip: cannot convert the file to explicit VR little endian")

// transcoder rewrites a Part 10 file in implicit or explicit VR little
// endian (native or encapsulated pixel data) as explicit VR little endian,
// streaming: element headers are rewritten, values copied byte for byte
// (pixel data included). An element stored as UN whose tag the dictionary
// knows gets the dictionary's VR (PS3.5 6.2.2); sequences and items are
// written with undefined length (their contents change length) and group
// lengths left out (they would be wrong); a value longer than a 16-bit
// length allows for its VR is written as UN. With dry set nothing is
// written and values are not read: the walk only proves the file converts,
// before a download commits to it.
type transcoder struct {
	r        io.ReaderAt
	size     int64
	w        io.Writer
	dry      bool
	pixelRep int
	// bitsAllocated of the image, for native pixel data's OB or OW.
	bitsAllocated int
	buf           []byte
	sop           [2]string
}

// transcode writes the file r of size bytes to w (nil with dry). A file
// without the Part 10 prefix or file meta group gets them; sop (SOP class
// and instance UID) fills a file meta group that lacks them.
func transcode(w io.Writer, r io.ReaderAt, size int64, dry bool, sop [2]string) error {
	r, size, ok := rd.WithFileMeta(r, size)
	if !ok {
		return fmt.Errorf("%w: not DICOM", errTranscode)
	}
	tc := &transcoder{r: r, size: size, w: w, dry: dry, sop: sop}
	if err := tc.run(); err != nil {
		return fmt.Errorf("%w: %v", errTranscode, err)
	}
	return nil
}

func (tc *transcoder) read(p int64, n int) ([]byte, error) {
	if n < 0 || p < 0 || p+int64(n) > tc.size {
		return nil, fmt.Errorf("element at %d runs past the end of the file", p)
	}
	if cap(tc.buf) < n {
		tc.buf = make([]byte, n)
	}
	b := tc.buf[:n]
	if _, err := tc.r.ReadAt(b, p); err != nil {
		return nil, err
	}
	return b, nil
}

func (tc *transcoder) write(b []byte) error {
	if tc.dry {
		return nil
	}
	_, err := tc.w.Write(b)
	return err
}

// copyValue copies n bytes at p to the output.
func (tc *transcoder) copyValue(p int64, n int64) error {
	if p+n > tc.size {
		return fmt.Errorf("value at %d runs past the end of the file", p)
	}
	if tc.dry {
		return nil
	}
	if n <= 1<<16 {
		b, err := tc.read(p, int(n))
		if err != nil {
			return err
		}
		return tc.write(b)
	}
	got, err := io.Copy(tc.w, io.NewSectionReader(tc.r, p, n))
	if err == nil && got != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (tc *transcoder) run() error {
	head, err := tc.read(0, 132)
	if err != nil {
		return err
	}
	if string(head[128:132]) != "DICM" {
		return errors.New("no DICM prefix")
	}
	if err := tc.write(head); err != nil {
		return err
	}
	// File meta group: explicit VR little endian, rewritten with the new
	// transfer syntax and group length.
	type metaEl struct {
		tg  tag.Tag
		vr  string
		val []byte
	}
	var meta []metaEl
	p := int64(132)
	ts := ""
	for p+8 <= tc.size {
		h, err := tc.read(p, 8)
		if err != nil {
			return err
		}
		g, e := binary.LittleEndian.Uint16(h), binary.LittleEndian.Uint16(h[2:])
		if g != 0x0002 {
			break
		}
		vr := string(h[4:6])
		n, hl := int64(binary.LittleEndian.Uint16(h[6:])), int64(8)
		if longVR(vr) {
			l, err := tc.read(p+8, 4)
			if err != nil {
				return err
			}
			n, hl = int64(binary.LittleEndian.Uint32(l)), 12
		}
		if n > 1<<16 {
			return errors.New("file meta element too long")
		}
		v, err := tc.read(p+hl, int(n))
		if err != nil {
			return err
		}
		val := append([]byte(nil), v...)
		if e == 0x0010 {
			ts = string(trimUID(val))
		}
		if e != 0x0000 {
			meta = append(meta, metaEl{tag.Tag{Group: g, Element: e}, vr, val})
		}
		p += hl + n
	}
	implicit := false
	switch ts {
	case implicitVRLittleEndian:
		implicit = true
	case explicitVRBigEndian, deflatedExplicitVRLE, "":
		return fmt.Errorf("transfer syntax %q", ts)
	}
	// The file meta elements PS3.10 7.1 requires, where the file lacks them.
	need := []metaEl{
		{tag.FileMetaInformationVersion, "OB", []byte{0, 1}},
		{tag.MediaStorageSOPClassUID, "UI", uiPad(tc.sop[0])},
		{tag.MediaStorageSOPInstanceUID, "UI", uiPad(tc.sop[1])},
		{tag.ImplementationClassUID, "UI", uiPad(dicomdir.ImplementationClassUID)},
	}
	for _, n := range need {
		if !slices.ContainsFunc(meta, func(m metaEl) bool { return m.tg == n.tg }) && len(n.val) > 0 {
			meta = append(meta, n)
		}
	}
	slices.SortFunc(meta, func(a, b metaEl) int { return a.tg.Compare(b.tg) })
	var mb []byte
	for _, m := range meta {
		val := m.val
		if m.tg.Element == 0x0010 && implicit {
			val = uiPad(explicitVRLittleEndian)
		}
		mb = appendHeader(mb, m.tg, m.vr, uint32(len(val)))
		mb = append(mb, val...)
	}
	gl := appendHeader(nil, tag.Tag{Group: 2, Element: 0}, "UL", 4)
	gl = binary.LittleEndian.AppendUint32(gl, uint32(len(mb)))
	if err := tc.write(append(gl, mb...)); err != nil {
		return err
	}
	end, err := tc.elements(p, tc.size, implicit, false, 0)
	if err != nil {
		return err
	}
	if end != tc.size {
		return fmt.Errorf("data set ends at %d of %d", end, tc.size)
	}
	return nil
}

// elements converts the elements in [p, end) (or, with inItem, up to and
// including an item delimiter) and returns where it stopped.
func (tc *transcoder) elements(p, end int64, implicit, inItem bool, depth int) (int64, error) {
	if depth > 32 {
		return 0, errors.New("sequences nested too deep")
	}
	for p < end {
		h, err := tc.read(p, 8)
		if err != nil {
			return 0, err
		}
		tg := tag.Tag{Group: binary.LittleEndian.Uint16(h), Element: binary.LittleEndian.Uint16(h[2:])}
		if tg == tag.ItemDelimitationItem {
			if !inItem {
				return 0, fmt.Errorf("item delimiter outside an item at %d", p)
			}
			return p + 8, nil
		}
		if tg.Group == 0xFFFE {
			return 0, fmt.Errorf("unexpected %v at %d", tg, p)
		}
		var vr string
		var n uint32
		var hl int64
		if implicit {
			n, hl = binary.LittleEndian.Uint32(h[4:]), 8
			vr = vrFor(tg, n, tc.pixelRep)
		} else {
			vr = string(h[4:6])
			if longVR(vr) {
				l, err := tc.read(p+8, 4)
				if err != nil {
					return 0, err
				}
				n, hl = binary.LittleEndian.Uint32(l), 12
			} else {
				n, hl = uint32(binary.LittleEndian.Uint16(h[6:])), 8
			}
		}
		if tg.Element == 0x0000 && n == 4 {
			// A group length (retired, PS3.5 7.2): wrong once headers
			// change length, so left out.
			p += hl + 4
			continue
		}
		itemsImplicit := implicit
		if vr == "UN" && !tag.IsPrivate(tg.Group) {
			if dict := vrFor(tg, n, tc.pixelRep); dict != "UN" {
				vr = dict
				itemsImplicit = true // a UN value is encoded in implicit VR (PS3.5 6.2.2)
			}
		} else if vr == "UN" && n == undefined {
			vr, itemsImplicit = "SQ", true
		}
		v := p + hl
		if (tg == tag.PixelRepresentation || tg == tag.BitsAllocated) && depth == 0 && n == 2 {
			b, err := tc.read(v, 2)
			if err != nil {
				return 0, err
			}
			if tg == tag.BitsAllocated {
				tc.bitsAllocated = int(binary.LittleEndian.Uint16(b))
			} else {
				tc.pixelRep = int(binary.LittleEndian.Uint16(b))
			}
		}
		if tg == tag.PixelData && depth == 0 && vr == "OW" && n != undefined && tc.bitsAllocated > 0 && tc.bitsAllocated <= 8 {
			vr = "OB" // 8-bit samples (PS3.5 A.2), whatever the length
		}
		switch {
		case vr == "SQ":
			if err := tc.write(appendHeader(nil, tg, "SQ", undefined)); err != nil {
				return 0, err
			}
			if p, err = tc.sequence(v, n, itemsImplicit, depth+1); err != nil {
				return 0, err
			}
			if err := tc.write(appendHeader(nil, tag.SequenceDelimitationItem, "", 0)); err != nil {
				return 0, err
			}
			continue
		case n == undefined:
			// Encapsulated pixel data: fragments copied as they are.
			if err := tc.write(appendHeader(nil, tg, vr, undefined)); err != nil {
				return 0, err
			}
			if p, err = tc.fragments(v); err != nil {
				return 0, err
			}
			continue
		}
		if !longVR(vr) && n > 0xFFFF {
			vr = "UN"
		}
		if err := tc.write(appendHeader(nil, tg, vr, n)); err != nil {
			return 0, err
		}
		if err := tc.copyValue(v, int64(n)); err != nil {
			return 0, err
		}
		p = v + int64(n)
	}
	if inItem {
		return 0, errors.New("item without its delimiter")
	}
	if p != end {
		return 0, fmt.Errorf("element runs past its container at %d", p)
	}
	return p, nil
}

// sequence converts the items of a sequence whose value starts at p.
func (tc *transcoder) sequence(p int64, n uint32, implicit bool, depth int) (int64, error) {
	end := tc.size
	if n != undefined {
		end = p + int64(n)
		if end > tc.size {
			return 0, errors.New("sequence runs past the end of the file")
		}
	}
	for {
		if n != undefined && p == end {
			return p, nil
		}
		h, err := tc.read(p, 8)
		if err != nil {
			return 0, err
		}
		tg := tag.Tag{Group: binary.LittleEndian.Uint16(h), Element: binary.LittleEndian.Uint16(h[2:])}
		l := binary.LittleEndian.Uint32(h[4:])
		if tg == tag.SequenceDelimitationItem {
			if n != undefined {
				return 0, errors.New("sequence delimiter in a sequence of defined length")
			}
			return p + 8, nil
		}
		if tg != tag.Item {
			return 0, fmt.Errorf("%v in a sequence at %d", tg, p)
		}
		if err := tc.write(appendHeader(nil, tag.Item, "", undefined)); err != nil {
			return 0, err
		}
		if l == undefined {
			p, err = tc.elements(p+8, end, implicit, true, depth)
		} else {
			if p+8+int64(l) > end {
				return 0, errors.New("item runs past its sequence")
			}
			p, err = tc.elements(p+8, p+8+int64(l), implicit, false, depth)
		}
		if err != nil {
			return 0, err
		}
		if err := tc.write(appendHeader(nil, tag.ItemDelimitationItem, "", 0)); err != nil {
			return 0, err
		}
	}
}

// fragments copies encapsulated pixel data items up to and including the
// sequence delimiter.
func (tc *transcoder) fragments(p int64) (int64, error) {
	for {
		h, err := tc.read(p, 8)
		if err != nil {
			return 0, err
		}
		tg := tag.Tag{Group: binary.LittleEndian.Uint16(h), Element: binary.LittleEndian.Uint16(h[2:])}
		l := binary.LittleEndian.Uint32(h[4:])
		switch {
		case tg == tag.SequenceDelimitationItem:
			return p + 8, tc.write(h)
		case tg != tag.Item || l == undefined:
			return 0, fmt.Errorf("bad fragment at %d", p)
		}
		if err := tc.write(append([]byte(nil), h...)); err != nil {
			return 0, err
		}
		if err := tc.copyValue(p+8, int64(l)); err != nil {
			return 0, err
		}
		p += 8 + int64(l)
	}
}

// vrFor is the VR of a tag in implicit VR data (PS3.5 A.1 and 6.2.2):
// the dictionary's, with the choices resolved (OW for pixel and overlay
// data and LUTs, US or SS by Pixel Representation), UN for unknown and
// private tags, SQ for any of them with undefined length.
func vrFor(tg tag.Tag, n uint32, pixelRep int) string {
	switch {
	case tg.Element == 0x0000:
		return "UL"
	case tag.IsPrivate(tg.Group) && tg.Element >= 0x0010 && tg.Element <= 0x00FF:
		return "LO"
	case tag.IsPrivate(tg.Group):
		if n == undefined {
			return "SQ"
		}
		return "UN"
	case tg == tag.PixelData && n == undefined:
		return "OB"
	}
	info, err := tag.Find(tg)
	if err != nil && (tg.Group&0xFF00 == 0x6000 || tg.Group&0xFF00 == 0x5000) {
		info, err = tag.Find(tag.Tag{Group: tg.Group & 0xFF00, Element: tg.Element})
	}
	if err != nil || len(info.VRs) == 0 {
		if n == undefined {
			return "SQ"
		}
		return "UN"
	}
	vrs := info.VRs
	switch {
	case n == undefined:
		return "SQ"
	case len(vrs) == 1:
		return vrs[0]
	case slices.Contains(vrs, "OW"):
		return "OW"
	case slices.Contains(vrs, "US") && slices.Contains(vrs, "SS"):
		if pixelRep == 1 {
			return "SS"
		}
		return "US"
	}
	return vrs[0]
}

// longVR: the VRs with a reserved field and a 32-bit length (PS3.5 7.1.2).
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// appendHeader appends an explicit VR little endian element header (vr ""
// for item and delimiter tags, which have none).
func appendHeader(b []byte, tg tag.Tag, vr string, n uint32) []byte {
	b = binary.LittleEndian.AppendUint16(b, tg.Group)
	b = binary.LittleEndian.AppendUint16(b, tg.Element)
	switch {
	case vr == "":
		return binary.LittleEndian.AppendUint32(b, n)
	case longVR(vr):
		b = append(b, vr[0], vr[1], 0, 0)
		return binary.LittleEndian.AppendUint32(b, n)
	}
	b = append(b, vr[0], vr[1])
	return binary.LittleEndian.AppendUint16(b, uint16(n))
}

func trimUID(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

func uiPad(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return b
}
