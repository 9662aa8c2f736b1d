package dicomdir_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/dicom/dicomdir"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// Node is a directory record as read back by following the offsets.
type Node struct {
	Type     string
	Offset   uint32
	Keys     map[tag.Tag]string
	Children []*Node
}

// Read parses a DICOMDIR with the library, finds each record's byte offset
// by walking the raw item headers, and rebuilds the tree from the offsets
// alone (first root record, next, lower), as a media reader does.
func Read(t *testing.T, b []byte) (roots []*Node, root dcm.Dataset) {
	t.Helper()
	ds, err := dcm.Parse(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatalf("library cannot parse the DICOMDIR: %v", err)
	}
	seq, err := ds.FindElementByTag(tag.DirectoryRecordSequence)
	if err != nil {
		t.Fatal("no directory record sequence")
	}
	items := seq.Value.GetValue().([]*dcm.SequenceItemValue)
	// Raw walk: the sequence header is 12 bytes after the (0004,1220) tag.
	start := bytes.Index(b, []byte{0x04, 0x00, 0x20, 0x12, 'S', 'Q', 0, 0})
	if start < 0 {
		t.Fatal("sequence header not found")
	}
	pos := uint32(start + 12)
	byOffset := map[uint32]*dcm.SequenceItemValue{}
	for _, it := range items {
		if binary.LittleEndian.Uint16(b[pos:]) != 0xFFFE || binary.LittleEndian.Uint16(b[pos+2:]) != 0xE000 {
			t.Fatalf("no item tag at %d", pos)
		}
		byOffset[pos] = it
		pos += 8 + binary.LittleEndian.Uint32(b[pos+4:])
	}
	if int(pos) != len(b) {
		t.Errorf("records end at %d, file is %d bytes", pos, len(b))
	}
	ul := func(els []*dcm.Element, tg tag.Tag) uint32 {
		d := dcm.Dataset{Elements: els}
		e, err := d.FindElementByTag(tg)
		if err != nil {
			t.Fatalf("%v missing", tg)
		}
		return uint32(e.Value.GetValue().([]int)[0])
	}
	visited := map[uint32]bool{}
	var chain func(off uint32) []*Node
	chain = func(off uint32) []*Node {
		var out []*Node
		for off != 0 {
			if visited[off] {
				t.Fatalf("offset %d reached twice", off)
			}
			visited[off] = true
			it, ok := byOffset[off]
			if !ok {
				t.Fatalf("offset %d is not the start of a record", off)
			}
			els := it.GetValue().([]*dcm.Element)
			n := &Node{Keys: map[tag.Tag]string{}, Offset: off}
			for _, e := range els {
				if v, ok := e.Value.GetValue().([]string); ok {
					n.Keys[e.Tag] = strings.Join(v, `\`)
				}
			}
			n.Type = n.Keys[tag.DirectoryRecordType]
			if in := ul(els, tag.RecordInUseFlag); in != 0xFFFF {
				t.Errorf("record in-use flag %x", in)
			}
			n.Children = chain(ul(els, tag.OffsetOfReferencedLowerLevelDirectoryEntity))
			out = append(out, n)
			off = ul(els, tag.OffsetOfTheNextDirectoryRecord)
		}
		return out
	}
	roots = chain(ul(ds.Elements, tag.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity))
	if len(visited) != len(items) {
		t.Errorf("%d of %d records reachable", len(visited), len(items))
	}
	last := ul(ds.Elements, tag.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity)
	if len(roots) > 0 && last != roots[len(roots)-1].Offset || len(roots) == 0 && last != 0 {
		t.Errorf("last root offset %d is not the last root record", last)
	}
	return roots, ds
}

func inst(file, pid, study, series, sop string, n int) dicomdir.Instance {
	return dicomdir.Instance{
		FileID: strings.Split(file, "/"), PatientID: pid, PatientName: "DOE^" + pid,
		StudyUID: study, StudyDate: "20260102", StudyTime: "101500", StudyDescription: "CT " + study, StudyID: "S1",
		Accession: "A" + study, SeriesUID: series, Modality: "CT", SeriesNumber: "3",
		SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", SOPInstanceUID: sop, TransferSyntax: "1.2.840.10008.1.2.1",
		InstanceNumber: fmt.Sprint(n),
	}
}

func write(t *testing.T, ins []dicomdir.Instance) []byte {
	t.Helper()
	var b bytes.Buffer
	err := dicomdir.Write(&b, ins, dicomdir.Options{SOPInstanceUID: "2.25.1", Now: time.Date(2026, 11, 30, 4, 5, 6, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHierarchyAndOffsets(t *testing.T) {
	ins := []dicomdir.Instance{
		inst("DICOM/S0001/I0001", "P1", "1.1", "1.1.1", "1.1.1.1", 1),
		inst("DICOM/S0001/I0002", "P1", "1.1", "1.1.1", "1.1.1.2", 2),
		inst("DICOM/S0002/I0001", "P1", "1.1", "1.1.2", "1.1.2.1", 1),
		inst("DICOM/S0003/I0001", "P1", "1.2", "1.2.1", "1.2.1.1", 1),
		inst("DICOM/S0004/I0001", "P2", "2.1", "2.1.1", "2.1.1.1", 1),
		inst("DICOM/S0001/I0003", "P1", "1.1", "1.1.1", "1.1.1.3", 3), // late member of the first series
	}
	b := write(t, ins)
	roots, ds := Read(t, b)
	var got []string
	var walk func(ns []*Node, depth int)
	walk = func(ns []*Node, depth int) {
		for _, n := range ns {
			key := map[string]tag.Tag{"PATIENT": tag.PatientID, "STUDY": tag.StudyInstanceUID,
				"SERIES": tag.SeriesInstanceUID, "IMAGE": tag.ReferencedSOPInstanceUIDInFile}[n.Type]
			got = append(got, fmt.Sprintf("%s%s %s", strings.Repeat(" ", depth), n.Type, n.Keys[key]))
			walk(n.Children, depth+1)
		}
	}
	walk(roots, 0)
	want := []string{
		"PATIENT P1", " STUDY 1.1", "  SERIES 1.1.1", "   IMAGE 1.1.1.1", "   IMAGE 1.1.1.2", "   IMAGE 1.1.1.3",
		"  SERIES 1.1.2", "   IMAGE 1.1.2.1", " STUDY 1.2", "  SERIES 1.2.1", "   IMAGE 1.2.1.1",
		"PATIENT P2", " STUDY 2.1", "  SERIES 2.1.1", "   IMAGE 2.1.1.1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	img := roots[0].Children[0].Children[0].Children[2]
	for tg, w := range map[tag.Tag]string{
		tag.ReferencedFileID:                  `DICOM\S0001\I0003`,
		tag.ReferencedSOPClassUIDInFile:       "1.2.840.10008.5.1.4.1.1.2",
		tag.ReferencedTransferSyntaxUIDInFile: "1.2.840.10008.1.2.1",
		tag.InstanceNumber:                    "3",
	} {
		if img.Keys[tg] != w {
			t.Errorf("image %v = %q, want %q", tg, img.Keys[tg], w)
		}
	}
	st := roots[0].Children[0]
	for tg, w := range map[tag.Tag]string{tag.StudyDate: "20260102", tag.StudyTime: "101500", tag.StudyID: "S1",
		tag.AccessionNumber: "A1.1", tag.StudyDescription: "CT 1.1"} {
		if st.Keys[tg] != w {
			t.Errorf("study %v = %q, want %q", tg, st.Keys[tg], w)
		}
	}
	if roots[0].Keys[tag.PatientName] != "DOE^P1" {
		t.Errorf("patient name %q", roots[0].Keys[tag.PatientName])
	}
	for tg, w := range map[tag.Tag]string{tag.MediaStorageSOPClassUID: dicomdir.MediaStorageDirectoryStorage,
		tag.MediaStorageSOPInstanceUID: "2.25.1", tag.TransferSyntaxUID: dicomdir.ExplicitVRLittleEndian, tag.FileSetID: "RADPASS"} {
		e, err := ds.FindElementByTag(tg)
		if err != nil || e.Value.GetValue().([]string)[0] != w {
			t.Errorf("%v: %v", tg, e)
		}
	}
	dcmdump(t, b)
}

// Missing type 1 keys are invented as dcmmkdir +I does; non-ASCII text
// declares UTF-8.
func TestInventedKeysAndCharset(t *testing.T) {
	in := inst("DICOM/S0001/I0001", "P1", "1.1", "1.1.1", "1.1.1.1", 1)
	in.StudyDate, in.StudyTime, in.StudyID, in.SeriesNumber, in.InstanceNumber, in.Modality = "", "", "", "", "", ""
	in.PatientName = "Müller^Zoë"
	roots, _ := Read(t, write(t, []dicomdir.Instance{in}))
	p := roots[0]
	st := p.Children[0]
	se := st.Children[0]
	im := se.Children[0]
	for _, c := range []struct {
		n    *Node
		tg   tag.Tag
		want string
	}{
		{p, tag.SpecificCharacterSet, "ISO_IR 192"},
		{p, tag.PatientName, "Müller^Zoë"},
		{st, tag.StudyDate, "20261130"},
		{st, tag.StudyTime, "040506"},
		{st, tag.StudyID, "STUDY0001"},
		{se, tag.SeriesNumber, "1"},
		{se, tag.Modality, "OT"},
		{im, tag.InstanceNumber, "1"},
	} {
		if got := c.n.Keys[c.tg]; got != c.want {
			t.Errorf("%s %v = %q, want %q", c.n.Type, c.tg, got, c.want)
		}
	}
	if _, ok := st.Keys[tag.SpecificCharacterSet]; ok {
		t.Error("ASCII study record declares a character set")
	}
}

func TestRefused(t *testing.T) {
	ok := inst("DICOM/S0001/I0001", "P1", "1.1", "1.1.1", "1.1.1.1", 1)
	for name, c := range map[string]struct {
		ins []dicomdir.Instance
		opt dicomdir.Options
	}{
		"lowercase file ID": {[]dicomdir.Instance{func() dicomdir.Instance { i := ok; i.FileID = []string{"dicom", "I1"}; return i }()}, dicomdir.Options{SOPInstanceUID: "1.2"}},
		"long component":    {[]dicomdir.Instance{func() dicomdir.Instance { i := ok; i.FileID = []string{"DICOM", "I12345678"}; return i }()}, dicomdir.Options{SOPInstanceUID: "1.2"}},
		"duplicate file":    {[]dicomdir.Instance{ok, ok}, dicomdir.Options{SOPInstanceUID: "1.2"}},
		"no SOP UID":        {[]dicomdir.Instance{func() dicomdir.Instance { i := ok; i.SOPInstanceUID = ""; return i }()}, dicomdir.Options{SOPInstanceUID: "1.2"}},
		"bad file-set ID":   {[]dicomdir.Instance{ok}, dicomdir.Options{SOPInstanceUID: "1.2", FileSetID: "radpass"}},
		"no own UID":        {[]dicomdir.Instance{ok}, dicomdir.Options{}},
	} {
		if err := dicomdir.Write(&bytes.Buffer{}, c.ins, c.opt); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestEmpty(t *testing.T) {
	roots, _ := Read(t, write(t, nil))
	if len(roots) != 0 {
		t.Errorf("%d roots", len(roots))
	}
}

func TestRecordType(t *testing.T) {
	for sop, want := range map[string]string{
		"1.2.840.10008.5.1.4.1.1.2":      "IMAGE",
		"1.2.840.10008.5.1.4.1.1.88.22":  "SR DOCUMENT",
		"1.2.840.10008.5.1.4.1.1.11.1":   "PRESENTATION",
		"1.2.840.10008.5.1.4.1.1.104.1":  "ENCAP DOC",
		"1.2.840.10008.5.1.4.1.1.481.2":  "RT DOSE",
		"1.2.840.10008.5.1.4.1.1.9.1.1":  "WAVEFORM",
		"1.2.840.10008.5.1.4.1.1.66":     "RAW DATA",
		"1.2.840.10008.5.1.4.1.1.12.1.1": "IMAGE",
		"1.2.840.10008.5.1.4.1.1.481.3":  "RT STRUCTURE SET",
		"1.2.840.10008.5.1.4.1.1.481.8":  "RT PLAN",
		"1.2.840.10008.5.1.4.1.1.88.59":  "KEY OBJECT DOC",
		"1.2.840.10008.5.1.4.1.1.79.1":   "SR DOCUMENT",
		"1.2.840.10008.5.1.4.1.1.78.7":   "MEASUREMENT",
		"1.2.840.10008.5.1.4.1.1.81.1":   "IMAGE",
		"1.2.840.10008.5.1.4.1.1.66.4":   "IMAGE",
		"1.2.840.10008.5.1.4.1.1.66.1":   "REGISTRATION",
	} {
		if got := dicomdir.RecordType(sop); got != want {
			t.Errorf("%s: %s, want %s", sop, got, want)
		}
	}
}

// dcmdump (dcmtk) reads the DICOMDIR as a DICOMDIR without error or warning.
func dcmdump(t *testing.T, b []byte) {
	t.Helper()
	bin := testtool.Path(t, "dcmdump")
	f := filepath.Join(t.TempDir(), "DICOMDIR")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-q", "-E", "+M", f).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("E: ")) || bytes.Contains(out, []byte("W: ")) {
		t.Errorf("dcmdump: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte(`"Directory Record" PATIENT`)) {
		t.Errorf("dcmdump does not show directory records:\n%s", out)
	}
}
