// Package dicomdir writes a DICOMDIR: the Basic Directory IOD of PS3.3 F
// stored as a PS3.10 file (Media Storage Directory Storage), with one
// PATIENT -> STUDY -> SERIES -> IMAGE hierarchy of directory records whose
// offsets (byte positions of each record's Item tag from the first byte of
// the file, PS3.3 F.3.2.1) are computed while encoding. Records are laid
// out depth first, like dcmtk's dcmmkdir: a patient, its first study, that
// study's first series, its images, the next series…
package dicomdir

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// Well-known UIDs.
const (
	MediaStorageDirectoryStorage = "1.2.840.10008.1.3.10"
	ExplicitVRLittleEndian       = "1.2.840.10008.1.2.1"
	// ImplementationClassUID identifies RadPass as the writer (2.25 UUID root).
	ImplementationClassUID = "2.25.129795574263245735006311960402744062291"
	ImplementationVersion  = "RADPASS_1"
)

// Instance is one referenced file with the keys its records need. Strings
// are Go (UTF-8) strings; records holding non-ASCII text get Specific
// Character Set ISO_IR 192.
type Instance struct {
	// FileID is the file's path in the file-set, e.g. {"DICOM","S0001","I0001"}:
	// 1 to 8 components of 1 to 8 characters A-Z, 0-9 and _.
	FileID []string

	PatientID   string
	PatientName string // DICOM PN form, e.g. "DOE^JOHN" or "Anonymous^123456"

	StudyUID         string
	StudyDate        string // DA, YYYYMMDD ("" is invented, see Options.Now)
	StudyTime        string // TM
	StudyDescription string
	StudyID          string
	Accession        string

	SeriesUID    string
	Modality     string
	SeriesNumber string // IS

	SOPClassUID    string
	SOPInstanceUID string
	TransferSyntax string
	InstanceNumber string // IS
	// RecordType overrides the lower-level record type (default from the
	// SOP class: RecordType).
	RecordType string
	// Keys are the record type's other keys (FromDataset reads them from
	// the file), in ascending tag order.
	Keys []Key
}

// Options of one DICOMDIR.
type Options struct {
	// FileSetID (0004,1130): up to 16 of A-Z, 0-9, _ and space; default RADPASS.
	FileSetID string
	// SOPInstanceUID of the DICOMDIR itself; default a new 2.25 UID from NewUID.
	SOPInstanceUID string
	// NewUID makes the DICOMDIR's instance UID when SOPInstanceUID is empty.
	NewUID func() string
	// Now fills type 1 keys the files lack (study date and time), as
	// dcmmkdir +I does; default time.Now().UTC().
	Now time.Time
}

var (
	fileIDRe    = regexp.MustCompile(`^[A-Z0-9_]{1,8}$`)
	fileSetIDRe = regexp.MustCompile(`^[A-Z0-9_ ]{0,16}$`)
)

// ValidFileID reports a Referenced File ID that PS3.10 8.5/8.2 allows.
func ValidFileID(c []string) bool {
	if len(c) == 0 || len(c) > 8 {
		return false
	}
	for _, s := range c {
		if !fileIDRe.MatchString(s) {
			return false
		}
	}
	return true
}

type record struct {
	typ      string
	els      []byte // encoded elements after (0004,1430)
	next     *record
	lower    *record
	children []*record
	offset   uint32
	size     uint32 // whole item: header + content
}

// Write encodes the DICOMDIR of instances to w.
func Write(w io.Writer, instances []Instance, opt Options) error {
	if opt.FileSetID == "" {
		opt.FileSetID = "RADPASS"
	}
	if !fileSetIDRe.MatchString(opt.FileSetID) {
		return fmt.Errorf("dicomdir: invalid file-set ID %q", opt.FileSetID)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	if opt.SOPInstanceUID == "" {
		if opt.NewUID == nil {
			return errors.New("dicomdir: Options.SOPInstanceUID or NewUID is required")
		}
		opt.SOPInstanceUID = opt.NewUID()
	}
	roots, err := hierarchy(instances, opt)
	if err != nil {
		return err
	}

	var meta bytes.Buffer
	putElem(&meta, 0x0002, 0x0001, "OB", []byte{0, 1})
	putElem(&meta, 0x0002, 0x0002, "UI", uiBytes(MediaStorageDirectoryStorage))
	putElem(&meta, 0x0002, 0x0003, "UI", uiBytes(opt.SOPInstanceUID))
	putElem(&meta, 0x0002, 0x0010, "UI", uiBytes(ExplicitVRLittleEndian))
	putElem(&meta, 0x0002, 0x0012, "UI", uiBytes(ImplementationClassUID))
	putElem(&meta, 0x0002, 0x0013, "SH", text(ImplementationVersion))
	var head bytes.Buffer
	head.Write(make([]byte, 128))
	head.WriteString("DICM")
	putElem(&head, 0x0002, 0x0000, "UL", u32(uint32(meta.Len())))
	head.Write(meta.Bytes())

	// Root data set up to the sequence: fixed sizes, so offsets are known.
	fsID := text(opt.FileSetID)
	seqStart := uint32(head.Len()) +
		uint32(8+len(fsID)) + // (0004,1130)
		12 + 12 + // (0004,1200), (0004,1202): UL
		10 + // (0004,1212): US
		12 // (0004,1220) SQ header with explicit length

	// Depth-first layout: assign offsets.
	var order []*record
	var walk func(rs []*record)
	walk = func(rs []*record) {
		for _, r := range rs {
			order = append(order, r)
			walk(r.children)
		}
	}
	walk(roots)
	pos := seqStart
	for _, r := range order {
		r.size = 8 + 12 + 10 + 12 + uint32(8+len(text(r.typ))) + uint32(len(r.els))
		r.offset = pos
		pos += r.size
	}
	seqLen := pos - seqStart
	link(roots)

	var root bytes.Buffer
	putElem(&root, 0x0004, 0x1130, "CS", fsID)
	first, last := uint32(0), uint32(0)
	if len(roots) > 0 {
		first, last = roots[0].offset, roots[len(roots)-1].offset
	}
	putElem(&root, 0x0004, 0x1200, "UL", u32(first))
	putElem(&root, 0x0004, 0x1202, "UL", u32(last))
	putElem(&root, 0x0004, 0x1212, "US", u16(0))
	putTag(&root, 0x0004, 0x1220)
	root.WriteString("SQ")
	root.Write([]byte{0, 0})
	root.Write(u32(seqLen))
	if uint32(head.Len()+root.Len()) != seqStart {
		return fmt.Errorf("dicomdir: internal layout error %d != %d", head.Len()+root.Len(), seqStart)
	}
	if _, err := w.Write(head.Bytes()); err != nil {
		return err
	}
	if _, err := w.Write(root.Bytes()); err != nil {
		return err
	}
	for _, r := range order {
		var b bytes.Buffer
		putTag(&b, 0xFFFE, 0xE000)
		b.Write(u32(r.size - 8))
		putElem(&b, 0x0004, 0x1400, "UL", u32(off(r.next)))
		putElem(&b, 0x0004, 0x1410, "US", u16(0xFFFF))
		putElem(&b, 0x0004, 0x1420, "UL", u32(off(r.lower)))
		putElem(&b, 0x0004, 0x1430, "CS", text(r.typ))
		b.Write(r.els)
		if uint32(b.Len()) != r.size {
			return fmt.Errorf("dicomdir: internal size error %d != %d", b.Len(), r.size)
		}
		if _, err := w.Write(b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func off(r *record) uint32 {
	if r == nil {
		return 0
	}
	return r.offset
}

func link(rs []*record) {
	for i, r := range rs {
		if i+1 < len(rs) {
			r.next = rs[i+1]
		}
		if len(r.children) > 0 {
			r.lower = r.children[0]
		}
		link(r.children)
	}
}

// hierarchy groups the instances by patient, study and series in order of
// first appearance and encodes each record's keys.
func hierarchy(instances []Instance, opt Options) ([]*record, error) {
	var patients []*record
	pIdx := map[string]*record{}
	sIdx := map[string]*record{}
	seIdx := map[string]*record{}
	seen := map[string]bool{}
	studyN := 0
	for i, in := range instances {
		if !ValidFileID(in.FileID) {
			return nil, fmt.Errorf("dicomdir: invalid file ID %q", strings.Join(in.FileID, `\`))
		}
		if in.StudyUID == "" || in.SeriesUID == "" || in.SOPInstanceUID == "" || in.SOPClassUID == "" {
			return nil, fmt.Errorf("dicomdir: instance %d lacks a UID", i)
		}
		id := strings.Join(in.FileID, `\`)
		if seen[id] {
			return nil, fmt.Errorf("dicomdir: file ID %s used twice", id)
		}
		seen[id] = true
		pid := in.PatientID
		if pid == "" {
			pid = "UNKNOWN"
		}
		pkey := pid + "\x00" + in.PatientName
		p := pIdx[pkey]
		if p == nil {
			var b bytes.Buffer
			charset(&b, in.PatientName, pid)
			putElem(&b, 0x0010, 0x0010, "PN", text(clip(in.PatientName, 64)))
			putElem(&b, 0x0010, 0x0020, "LO", text(clip(pid, 64)))
			p = &record{typ: "PATIENT", els: b.Bytes()}
			pIdx[pkey] = p
			patients = append(patients, p)
		}
		st := sIdx[in.StudyUID]
		if st == nil {
			studyN++
			date, tm, sid := in.StudyDate, in.StudyTime, in.StudyID
			if date == "" {
				date = opt.Now.Format("20060102")
			}
			if tm == "" {
				tm = opt.Now.Format("150405")
			}
			if sid == "" {
				sid = fmt.Sprintf("STUDY%04d", studyN)
			}
			var b bytes.Buffer
			charset(&b, in.StudyDescription, sid, in.Accession)
			putElem(&b, 0x0008, 0x0020, "DA", text(date))
			putElem(&b, 0x0008, 0x0030, "TM", text(tm))
			putElem(&b, 0x0008, 0x0050, "SH", text(clip(in.Accession, 16)))
			putElem(&b, 0x0008, 0x1030, "LO", text(clip(in.StudyDescription, 64)))
			putElem(&b, 0x0020, 0x000D, "UI", uiBytes(in.StudyUID))
			putElem(&b, 0x0020, 0x0010, "SH", text(clip(sid, 16)))
			st = &record{typ: "STUDY", els: b.Bytes()}
			sIdx[in.StudyUID] = st
			p.children = append(p.children, st)
		}
		se := seIdx[in.SeriesUID]
		if se == nil {
			num := in.SeriesNumber
			if num == "" {
				num = fmt.Sprint(len(st.children) + 1)
			}
			mod := in.Modality
			if mod == "" {
				mod = "OT"
			}
			var b bytes.Buffer
			putElem(&b, 0x0008, 0x0060, "CS", text(clip(mod, 16)))
			putElem(&b, 0x0020, 0x000E, "UI", uiBytes(in.SeriesUID))
			putElem(&b, 0x0020, 0x0011, "IS", text(num))
			se = &record{typ: "SERIES", els: b.Bytes()}
			seIdx[in.SeriesUID] = se
			st.children = append(st.children, se)
		}
		typ := in.RecordType
		if typ == "" {
			typ = RecordType(in.SOPClassUID)
		}
		// Elements in ascending tag order: Private Record UID, the
		// referenced file's UIDs, the character set, then the record
		// type's keys with Instance Number among them.
		type el struct {
			tg  tag.Tag
			raw []byte
		}
		one := func(g, e uint16, vr string, v []byte) el {
			var b bytes.Buffer
			putElem(&b, g, e, vr, v)
			return el{tag.Tag{Group: g, Element: e}, b.Bytes()}
		}
		list := []el{
			one(0x0004, 0x1500, "CS", text(id)),
			one(0x0004, 0x1510, "UI", uiBytes(in.SOPClassUID)),
			one(0x0004, 0x1511, "UI", uiBytes(in.SOPInstanceUID)),
			one(0x0004, 0x1512, "UI", uiBytes(in.TransferSyntax)),
		}
		utf, hasNum := false, false
		for _, k := range in.Keys {
			utf = utf || k.Text
			hasNum = hasNum || k.Tag == instanceNumber
			list = append(list, el{k.Tag, k.Raw})
		}
		if utf {
			list = append(list, one(0x0008, 0x0005, "CS", text("ISO_IR 192")))
		}
		num, numType := in.InstanceNumber, instanceNumberType(typ)
		if num == "" && numType == "1" {
			num = fmt.Sprint(len(se.children) + 1)
		}
		if !hasNum && numType != "" {
			list = append(list, one(0x0020, 0x0013, "IS", text(num)))
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].tg.Compare(list[j].tg) < 0 })
		var b bytes.Buffer
		for i, x := range list {
			if i > 0 && x.tg == list[i-1].tg {
				return nil, fmt.Errorf("dicomdir: key %v given twice", x.tg)
			}
			b.Write(x.raw)
		}
		els := b.Bytes()
		se.children = append(se.children, &record{typ: typ, els: els})
	}
	return patients, nil
}

// instanceNumberType is the type of Instance Number in a record type ("" when it has none).
func instanceNumberType(typ string) string {
	for _, k := range recordKeys[typ] {
		if k.tag == instanceNumber {
			return k.typ
		}
	}
	if _, ok := recordKeys[typ]; !ok {
		return "1" // a record type set by the caller: as IMAGE
	}
	return ""
}

// charset adds Specific Character Set ISO_IR 192 (UTF-8) when a value is not ASCII.
func charset(b *bytes.Buffer, vals ...string) {
	for _, v := range vals {
		for i := 0; i < len(v); i++ {
			if v[i] >= 0x80 {
				putElem(b, 0x0008, 0x0005, "CS", text("ISO_IR 192"))
				return
			}
		}
	}
}

func putTag(b *bytes.Buffer, g, e uint16) {
	var x [4]byte
	binary.LittleEndian.PutUint16(x[:2], g)
	binary.LittleEndian.PutUint16(x[2:], e)
	b.Write(x[:])
}

// putElem writes one explicit VR little endian element; v is already padded.
func putElem(b *bytes.Buffer, g, e uint16, vr string, v []byte) {
	putTag(b, g, e)
	b.WriteString(vr)
	switch vr {
	case "OB", "OW", "SQ", "UN", "UT", "UC", "UR", "OF", "OD", "OL", "OV":
		b.Write([]byte{0, 0})
		b.Write(u32(uint32(len(v))))
	default:
		var x [2]byte
		binary.LittleEndian.PutUint16(x[:], uint16(len(v)))
		b.Write(x[:])
	}
	b.Write(v)
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// text is a string value padded with a space to even length; invalid UTF-8
// is replaced so a value never breaks the declared character set.
func text(s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, ' ')
	}
	return b
}

// uiBytes is a UID padded with NUL to even length.
func uiBytes(s string) []byte {
	b := []byte(s)
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// clip cuts s to at most n characters (the VR's maximum length).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
