package dicomweb_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/testkit/testserver"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

const fragStudyUID = "2.25.4711000000000000000000000000000077"

// fragCase is one instance of the fragmented-frames study: how dcmtk
// compressed it, and what WADO-RS frames must answer.
type fragCase struct {
	name, sop string
	tool      []string // compressor and options (input and output appended)
	frames    int      // Number of Frames set after compression (0: as made)
	ok        bool     // frames served (else 406)
}

// fragCases: a three-frame image (8 KB a frame, about 1 KB fragments), with
// and without the Basic Offset Table, as JPEG lossless and JPEG-LS, a
// single frame in many fragments, and one whose frame count does not match
// the codestreams (ambiguous: refused); and one frame per fragment with an
// Extended Offset Table (the parser misreads its 64-bit VR without the
// walk's help).
var fragCases = []fragCase{
	{"jpeg lossless, offset table", "2.25.47110000000000000000000000000770001", []string{"dcmcjpeg", "+fs", "1", "+ot"}, 0, true},
	{"jpeg lossless, no offset table", "2.25.47110000000000000000000000000770002", []string{"dcmcjpeg", "+fs", "1", "-ot"}, 0, true},
	{"jpeg-ls, no offset table", "2.25.47110000000000000000000000000770003", []string{"dcmcjpls", "+fs", "1", "-ot"}, 0, true},
	{"extended offset table", "2.25.47110000000000000000000000000770006", []string{"dcmcjpeg", "-ot"}, 0, true},
	{"single frame in fragments", "2.25.47110000000000000000000000000770004", []string{"dcmcjpeg", "+fs", "1", "-ot"}, 0, true},
	{"frame count not the codestreams'", "2.25.47110000000000000000000000000770005", []string{"dcmcjpeg", "+fs", "1", "-ot"}, 2, false},
}

// buildFragFiles synthesises the images and compresses them with dcmtk
// into many fragments per frame; it returns the compressed files.
func buildFragFiles(t *testing.T) []string {
	t.Helper()
	testtool.Need(t, "dcmcjpeg", "dcmcjpls", "dcmodify")
	dir := t.TempDir()
	var out []string
	for i, c := range fragCases {
		frames := 3
		if strings.HasPrefix(c.name, "single") {
			frames = 1
		}
		b, err := dicom.Synth{StudyUID: fragStudyUID, SeriesUID: fragStudyUID + ".1", SOPUID: c.sop, PatientID: "PID4242",
			PatientName: "Doe^Jane", BirthDate: "19610309", Modality: "CT", Rows: 64, Cols: 64, Frames: frames,
			BitsAllocated: 16, BitsStored: 16, Pixel: func(f, p, _ int) int { return (p*7919 + f*4099 + i*31) % 65536 }}.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		src, dst := filepath.Join(dir, fmt.Sprintf("raw%d.dcm", i)), filepath.Join(dir, fmt.Sprintf("c%d.dcm", i))
		if err := os.WriteFile(src, b, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, "dcmodify", "-nb", "-i", "(0028,0301)=NO", src) // no burned-in text: an anonymized access shows it
		run(t, append(c.tool, src, dst)...)
		if strings.HasPrefix(c.name, "extended") {
			withExtendedOffsetTable(t, dst)
		}
		if c.frames > 0 {
			run(t, "dcmodify", "-nb", "-m", fmt.Sprintf("(0028,0008)=%d", c.frames), dst)
		}
		out = append(out, dst)
	}
	return out
}

func run(t *testing.T, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Frames stored in several fragments each are served (PS3.18 8.7.3.5.3, PS3.5
// A.4): each frame a WADO-RS frames request returns, wrapped into a
// single-frame file, decodes with dcmtk to exactly the pixels dcmtk decodes
// for that frame of the stored file; the frame a file does not define
// unambiguously is a 406, never wrong bytes.
func TestViewerLinkServesFragmentedFrames(t *testing.T) {
	testtool.Need(t, "dcmdjpeg", "dcmdjpls")
	paths := buildFragFiles(t)
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	u := testserver.MustUser(t, srv.DB, "ann", database.RoleStaff, d)
	studyID := srv.MustImportStudy(t, d, paths, fragStudyUID)
	_, n := srv.MustBucket(t, u, []*database.Study{{ID: studyID}}, testserver.BucketSpec{Language: "en"})
	base := createLink(t, signIn(t, srv, n))
	anonB, an := srv.MustBucket(t, u, []*database.Study{{ID: studyID}}, testserver.BucketSpec{Anonymize: true, Language: "en"})
	anonBase := createLink(t, signIn(t, srv, an))
	dir := t.TempDir()

	for i, c := range fragCases {
		t.Run(c.name, func(t *testing.T) {
			stored, err := os.ReadFile(paths[i])
			if err != nil {
				t.Fatal(err)
			}
			ts, frames, fragments := storedLayout(t, stored)
			if c.ok && fragments <= frames && !strings.HasPrefix(c.name, "extended") {
				t.Fatalf("%d fragments for %d frames: the case needs several per frame", fragments, frames)
			}
			inst := base + "/studies/" + fragStudyUID + "/series/" + fragStudyUID + ".1/instances/" + c.sop
			list := "1"
			for f := 2; f <= frames; f++ {
				list += fmt.Sprintf(",%d", f)
			}
			typ, decoder := "image/jpeg", "dcmdjpeg"
			if c.tool[0] == "dcmcjpls" {
				typ, decoder = "image/jls", "dcmdjpls"
			}
			res, body := dw(t, inst+"/frames/"+list, "Accept", `multipart/related; type="`+typ+`"; transfer-syntax=*`)
			if !c.ok {
				if res.StatusCode != http.StatusNotAcceptable || !bytes.Contains(body, []byte("cannot be told apart")) {
					t.Fatalf("ambiguous frames answered %d %s", res.StatusCode, body)
				}
				return
			}
			if res.StatusCode != http.StatusOK {
				t.Fatalf("frames %s: %d %s", list, res.StatusCode, body)
			}
			types, got := parts(t, res, body)
			if len(got) != frames {
				t.Fatalf("%d parts for frames %s", len(got), list)
			}
			// The truth: dcmtk's decode of the stored file, frame by frame.
			whole := filepath.Join(dir, fmt.Sprintf("whole%d.dcm", i))
			run(t, decoder, paths[i], whole)
			want := nativePixels(t, whole)
			size := len(want) / frames
			for f, b := range got {
				if !strings.Contains(types[f], "transfer-syntax="+ts) {
					t.Fatalf("frame %d: Content-Type %q", f+1, types[f])
				}
				one := filepath.Join(dir, fmt.Sprintf("frame%d-%d.dcm", i, f))
				if err := os.WriteFile(one, wrapFrame(t, stored, b), 0o644); err != nil {
					t.Fatal(err)
				}
				run(t, "dcmodify", "-nb", "-m", "(0028,0008)=1", one)
				dec := one + ".native"
				run(t, decoder, one, dec)
				if px := nativePixels(t, dec); !bytes.Equal(px, want[f*size:(f+1)*size]) {
					t.Fatalf("frame %d served decodes to other pixels than dcmtk's frame %d (%d bytes served)", f+1, f+1, len(b))
				}
			}
		})
	}

	// An anonymized access serves its de-identified copies with the pixel
	// data as stored: the offset table kept (an Extended one as the Basic
	// one), and each decodes with dcmtk to the stored file's pixels.
	t.Run("anonymized copies", func(t *testing.T) {
		key := srv.App.Buckets.AnonUIDKey(anonB)
		for i, c := range fragCases {
			if !c.ok {
				continue
			}
			series, sop := deid.KeyedUID(key, fragStudyUID+".1"), deid.KeyedUID(key, c.sop)
			res, body := dw(t, anonBase+"/studies/"+deid.KeyedUID(key, fragStudyUID)+"/series/"+series+"/instances/"+sop, "Accept", acceptDICOM)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: retrieve %d %s", c.name, res.StatusCode, body)
			}
			_, got := parts(t, res, body)
			p := filepath.Join(dir, fmt.Sprintf("anon%d.dcm", i))
			if err := os.WriteFile(p, got[0], 0o644); err != nil {
				t.Fatal(err)
			}
			if stderr, err := dcmdump(p); err != nil || stderr != "" {
				t.Fatalf("%s: dcmdump: %v %s", c.name, err, stderr)
			}
			stored, _ := os.ReadFile(paths[i])
			_, storedTabs, err := dicom.ReadFullOffsets(bytes.NewReader(stored), int64(len(stored)))
			if err != nil {
				t.Fatal(err)
			}
			ds, tabs, err := dicom.ReadFullOffsets(bytes.NewReader(got[0]), int64(len(got[0])))
			if err != nil {
				t.Fatal(err)
			}
			want := storedTabs.Basic
			if len(storedTabs.Extended) > 0 {
				want = nil
				for _, o := range storedTabs.Extended {
					want = append(want, uint32(o))
				}
			}
			if fmt.Sprint(tabs.Basic) != fmt.Sprint(want) || tabs.Extended != nil {
				t.Fatalf("%s: served offset table %v (extended %v), stored %v", c.name, tabs.Basic, tabs.Extended, want)
			}
			if e, _ := ds.FindElementByTag(tag.ExtendedOffsetTable); e != nil {
				t.Fatalf("%s: an Extended Offset Table as OB", c.name)
			}
			decoder := "dcmdjpeg"
			if c.tool[0] == "dcmcjpls" {
				decoder = "dcmdjpls"
			}
			run(t, decoder, p, p+".native")
			run(t, decoder, paths[i], p+".stored")
			if !bytes.Equal(nativePixels(t, p+".native"), nativePixels(t, p+".stored")) {
				t.Fatalf("%s: the de-identified copy decodes to other pixels", c.name)
			}
		}
	})
}

// storedLayout reads a file's transfer syntax, frame count and fragments.
func storedLayout(t *testing.T, b []byte) (ts string, frames, fragments int) {
	t.Helper()
	ds, err := dicom.ReadFull(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	return m.TransferSyntax, max(m.Frames, 1), len(e.Value.GetValue().(dcm.PixelDataInfo).Frames)
}

// nativePixels is the pixel data value of an uncompressed file.
func nativePixels(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dicom.ReadFull(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	info := e.Value.GetValue().(dcm.PixelDataInfo)
	if info.IsEncapsulated {
		t.Fatalf("%s is still compressed", path)
	}
	return info.UnprocessedValueData
}

// wrapFrame is the stored file with its pixel data replaced by one frame,
// the bytes served, in one fragment after an empty offset table.
func wrapFrame(t *testing.T, stored, frame []byte) []byte {
	t.Helper()
	head := []byte("\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
	i := bytes.LastIndex(stored, head)
	if i < 0 {
		t.Fatal("no encapsulated pixel data in the stored file")
	}
	out := append([]byte(nil), stored[:i+len(head)]...)
	item := func(v []byte) {
		out = binary.LittleEndian.AppendUint16(out, 0xFFFE)
		out = binary.LittleEndian.AppendUint16(out, 0xE000)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(v)+len(v)%2))
		out = append(out, v...)
		if len(v)%2 == 1 {
			out = append(out, 0)
		}
	}
	item(nil)
	item(frame)
	return append(out, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
}

// pixelItems are the offsets (from the first fragment item) and lengths of
// the fragments of the stored file's encapsulated pixel data, and where its
// pixel data element starts.
func pixelItems(t *testing.T, b []byte) (at int, offs, lens []uint64) {
	t.Helper()
	at = bytes.LastIndex(b, []byte("\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff"))
	if at < 0 {
		t.Fatal("no encapsulated pixel data")
	}
	p := at + 12
	p += 8 + int(binary.LittleEndian.Uint32(b[p+4:])) // the Basic Offset Table
	first := p
	for binary.LittleEndian.Uint16(b[p+2:]) == 0xE000 {
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		offs, lens = append(offs, uint64(p-first)), append(lens, uint64(n))
		p += 8 + n
	}
	return at, offs, lens
}

// withExtendedOffsetTable gives the file at path (one fragment per frame,
// empty Basic Offset Table) an Extended Offset Table and its lengths (each
// frame without its padding byte), as PS3.5 A.4 and PS3.3 C.7.6.3 describe.
func withExtendedOffsetTable(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at, offs, lens := pixelItems(t, b)
	p := at + 12 + 8
	for i := range lens {
		start := p + 8 + int(offs[i])
		if f := b[start : start+int(lens[i])]; len(f) > 2 && f[len(f)-1] == 0 && f[len(f)-2] == 0xD9 {
			lens[i]--
		}
	}
	ov := func(elem uint16, v []uint64) []byte {
		out := binary.LittleEndian.AppendUint16(nil, 0x7FE0)
		out = binary.LittleEndian.AppendUint16(out, elem)
		out = append(out, 'O', 'V', 0, 0)
		out = binary.LittleEndian.AppendUint32(out, uint32(8*len(v)))
		for _, x := range v {
			out = binary.LittleEndian.AppendUint64(out, x)
		}
		return out
	}
	out := append(append(append([]byte(nil), b[:at]...), ov(1, offs)...), ov(2, lens)...)
	if err := os.WriteFile(path, append(out, b[at:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	if dump := run(t, "dcmdump", "-E", path); !bytes.Contains(dump, []byte("ExtendedOffsetTableLengths")) {
		t.Fatalf("dcmdump does not see the table:\n%s", dump)
	}
}
