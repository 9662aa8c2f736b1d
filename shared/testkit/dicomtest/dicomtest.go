// Package dicomtest builds DICOM test files of every kind a PACS sends
// with the reference tools (dcmtk, GDCM; scripts/deps.sh test installs
// them): each compressed transfer syntax, files without preamble or file
// meta group, and objects without pixel data (SR, RT structure set,
// waveform). Only tests use it.
package dicomtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// NeedTool fails the test when a reference tool is missing (skips it
// under -short).
func NeedTool(t testing.TB, name string) {
	t.Helper()
	testtool.Need(t, name)
}

// Convert runs a dcmtk/GDCM converter (tool args... in out) on in.
func Convert(t testing.TB, in []byte, tool string, args ...string) []byte {
	t.Helper()
	NeedTool(t, tool)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(src, in, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, append(append([]string{}, args...), src, dst)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FromDump builds a Part 10 file from a dcmdump-style text with dump2dcm.
func FromDump(t testing.TB, dump string, args ...string) []byte {
	t.Helper()
	NeedTool(t, "dump2dcm")
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.dump"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(src, []byte(dump), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dump2dcm", append(append([]string{}, args...), src, dst)...).CombinedOutput(); err != nil {
		t.Fatalf("dump2dcm: %v\n%s", err, out)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Ident names the patient, study and series of generated files.
type Ident struct {
	PatientID, PatientName, StudyUID, SeriesUID string
}

const srDump = `(0008,0016) UI =BasicTextSRStorage
(0008,0018) UI [%[1]s]
(0008,0060) CS [SR]
(0010,0010) PN [%[2]s]
(0010,0020) LO [%[3]s]
(0020,000d) UI [%[4]s]
(0020,000e) UI [%[5]s]
(0040,a040) CS [CONTAINER]
(0040,a043) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (0008,0100) SH [11528-7]
    (0008,0102) SH [LN]
    (0008,0104) LO [Radiology Report]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0040,a050) CS [SEPARATE]
(0040,a730) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (0040,a010) CS [CONTAINS]
    (0040,a040) CS [TEXT]
    (0040,a160) UT [No acute findings.]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
`

const rtDump = `(0008,0016) UI =RTStructureSetStorage
(0008,0018) UI [%[1]s]
(0008,0060) CS [RTSTRUCT]
(0010,0010) PN [%[2]s]
(0010,0020) LO [%[3]s]
(0020,000d) UI [%[4]s]
(0020,000e) UI [%[5]s]
(3006,0002) SH [RS1]
(3006,0020) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (3006,0022) IS [1]
    (3006,0026) LO [GTV]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(3006,0039) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (3006,002a) IS [255\0\0]
    (3006,0040) SQ (Sequence with undefined length)
      (fffe,e000) na (Item with undefined length)
        (3006,0042) CS [CLOSED_PLANAR]
        (3006,0046) IS [3]
        (3006,0050) DS [0.0\0.0\1.5\10.25\0.0\1.5\10.0\-10.5\1.5]
      (fffe,e00d) na (ItemDelimitationItem)
    (fffe,e0dd) na (SequenceDelimitationItem)
    (3006,0084) IS [1]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
`

const ecgDump = `(0008,0016) UI =TwelveLeadECGWaveformStorage
(0008,0018) UI [%[1]s]
(0008,0060) CS [ECG]
(0010,0010) PN [%[2]s]
(0010,0020) LO [%[3]s]
(0020,000d) UI [%[4]s]
(0020,000e) UI [%[5]s]
(5400,0100) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (003a,0005) US 1
    (003a,0010) UL 4
    (003a,001a) DS [500]
    (5400,1004) US 16
    (5400,1006) CS [SS]
    (5400,1010) OW 0001\0002\0003\fffc
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
`

// NonImage returns a Basic Text SR, an RT structure set and a 12-lead ECG
// waveform of id's patient and study, each in its own series (series UID
// id.SeriesUID + ".1/.2/.3"), keyed by kind.
func NonImage(t testing.TB, id Ident) map[string][]byte {
	out := map[string][]byte{}
	for i, d := range []struct{ kind, dump string }{{"sr", srDump}, {"rtstruct", rtDump}, {"ecg", ecgDump}} {
		series := fmt.Sprintf("%s.%d", id.SeriesUID, i+1)
		out[d.kind] = FromDump(t, fmt.Sprintf(d.dump, series+".1", id.PatientName, id.PatientID, id.StudyUID, series))
	}
	return out
}

// Image is a small synthetic 12-bit CT-like image of known pixels.
func Image(id Ident, sop string, frames int) rd.Synth {
	return rd.Synth{StudyUID: id.StudyUID, SeriesUID: id.SeriesUID, SOPUID: sop, PatientID: id.PatientID, PatientName: id.PatientName,
		Modality: "CT", Rows: 64, Cols: 64, Frames: frames, BitsAllocated: 16, BitsStored: 12,
		Pixel: func(f, i, _ int) int { return (i*37 + (i/64)*91 + f*300 + i%13*29) % 4096 }}
}

// Syntax is one way of writing pixel data and the tool call that makes it.
type Syntax struct {
	Name, UID, Tool string
	Args            []string
}

// Syntaxes are the encoders the tests run: every transfer syntax RadPass
// decodes, made by the reference tools.
var Syntaxes = []Syntax{
	{"explicit-le", "1.2.840.10008.1.2.1", "", nil},
	{"implicit-le", "1.2.840.10008.1.2", "dcmconv", []string{"+ti"}},
	{"big-endian", "1.2.840.10008.1.2.2", "dcmconv", []string{"+tb"}},
	{"rle", "1.2.840.10008.1.2.5", "dcmcrle", nil},
	{"jpeg-extended-12bit", "1.2.840.10008.1.2.4.51", "dcmcjpeg", []string{"+ee"}},
	{"jpeg-lossless", "1.2.840.10008.1.2.4.57", "dcmcjpeg", []string{"+el"}},
	{"jpeg-lossless-sv1", "1.2.840.10008.1.2.4.70", "dcmcjpeg", []string{"+e1"}},
	{"jpeg-ls", "1.2.840.10008.1.2.4.80", "dcmcjpls", nil},
	{"jpeg-ls-near", "1.2.840.10008.1.2.4.81", "dcmcjpls", []string{"+en"}},
	{"jpeg2000-lossless", "1.2.840.10008.1.2.4.90", "gdcmconv", []string{"--j2k"}},
	{"jpeg2000", "1.2.840.10008.1.2.4.91", "gdcmconv", []string{"--j2k", "--lossy", "-q", "80"}},
}

// Encode writes s in syntax x.
func Encode(t testing.TB, s rd.Synth, x Syntax) []byte {
	t.Helper()
	b, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if x.Tool == "" {
		return b
	}
	return Convert(t, b, x.Tool, x.Args...)
}

// MixedFolder writes into dir one image per syntax, an image without
// preamble and meta group (implicit VR), one without preamble
// and magic (meta group first), and the non-image objects, all of one study of id.
// It returns the file names written.
func MixedFolder(t testing.TB, dir string, id Ident) []string {
	t.Helper()
	var names []string
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	for i, x := range Syntaxes {
		s := Image(id, fmt.Sprintf("%s.%d", id.SeriesUID, 100+i), 1)
		write(x.Name+".dcm", Encode(t, s, x))
	}
	bare := Image(id, id.SeriesUID+".200", 1)
	write("bare-dataset", Convert(t, Encode(t, bare, Syntaxes[0]), "dcmconv", "-F", "+ti"))
	nopre, err := Image(id, id.SeriesUID+".201", 1).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	write("no-preamble.dcm", nopre[132:]) // meta group first: no preamble, no "DICM"
	for kind, b := range NonImage(t, id) {
		write(kind+".dcm", b)
	}
	return names
}
