package dicomzip_test

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom/pkg/tag"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicomzip"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// pydicomFiles are public test files of Debian's python3-pydicom, one
// instance each: an all-UN RT dose (RLE), an implicit VR RT plan, an RT
// structure set stored without file meta, two SR documents, an ECG, an
// implicit VR MR, CT, JPEG 2000 and JPEG secondary captures, a SEG.
var pydicomFiles = []string{"rtdose_rle.dcm", "rtplan.dcm", "rtstruct.dcm", "test-SR.dcm", "reportsi.dcm", "waveform_ecg.dcm",
	"MR_small_implicit.dcm", "CT_small.dcm", "JPEG2000.dcm", "SC_rgb_jpeg_dcmtk.dcm", "liver_1frame.dcm"}

// Anonymized, the SR documents and the ECG keep their type 1 Content
// Date and Time as deid's dummies, so they are in both downloads.
func corpus(t *testing.T, anonymized bool) []fixture {
	t.Helper()
	var fs []fixture
	for _, n := range pydicomFiles {
		b, err := os.ReadFile("/usr/lib/python3/dist-packages/pydicom/data/test_files/" + n)
		if err != nil {
			t.Fatalf("pydicom's test files (Debian python3-pydicom, scripts/deps.sh test): %v", err)
		}
		fs = append(fs, readMeta(t, n, b))
	}
	return append(fs, fixtures(t)...)
}

// typeTwoKeys are the attributes dcmmkdir wants valued in the files
// (type 1 in the DICOMDIR) that are only type 2 in the IODs: a download
// does not invent them into the files, so a file whose original (or, in
// an anonymized download, whose de-identified copy) has none is checked
// with dcmmkdir +I.
var typeTwoKeys = map[string]bool{"PatientID": true, "StudyDate": true, "StudyTime": true, "StudyID": true,
	"SeriesNumber": true, "InstanceNumber": true}

var (
	missingRe = regexp.MustCompile(`^E: required attribute (\w+) \([0-9a-fA-F,]+\) (?:empty|missing) in file: (\S+)$`)
	xferRe    = regexp.MustCompile(`^E: LittleEndianExplicit expected but (\w+) found: (\S+)$`)
)

// TestMediaProfileChecksNoRace: the downloads of a corpus of real files of many
// classes and encodings, plain and anonymized, are complete zips (zip -T)
// whose DICOMDIR dciodvfy finds no error in and whose files dcmmkdir's
// General Purpose CD-R profile accepts: strictly (dcmmkdir -Pgp), except
// for type 2 attributes the file itself has no value for and for files in
// their original compressed transfer syntax; then with +I -Nxc, where the
// profile lets a file-set creator invent those keys, without any error.
func TestMediaProfileChecksNoRace(t *testing.T) {
	// NoRace: dicomzip starts no goroutine; this builds and checks whole
	// archives in this one, where the race detector only costs time.
	testtool.Need(t, "zip", "dcmmkdir", "dciodvfy")
	for _, anon := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "anonymized"}[anon]
		t.Run(name, func(t *testing.T) {
			fs := corpus(t, anon)
			var left []string
			zr, raw := build(t, fs, dicomzip.Options{Anonymize: anon, Number: "246810", Lang: "en",
				OnSkip: func(it dicomzip.Item, err error) { left = append(left, it.SOPInstanceUID+": "+err.Error()) }})
			if len(left) > 0 {
				t.Errorf("left out: %v", left)
			}
			dir := t.TempDir()
			zipPath := filepath.Join(dir, "download.zip")
			if err := os.WriteFile(zipPath, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("zip", "-T", zipPath).CombinedOutput(); err != nil {
				t.Fatalf("zip -T: %v\n%s", err, out)
			}
			files := entries(t, zr)
			root := filepath.Join(dir, "cd")
			for n, b := range files {
				p := filepath.Join(root, filepath.FromSlash(n))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if len(files) != len(fs)+2 {
				t.Fatalf("%d entries for %d files", len(files), len(fs))
			}
			out, _ := exec.Command("dciodvfy", filepath.Join(root, "DICOMDIR")).CombinedOutput()
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "Error") {
					t.Errorf("dciodvfy DICOMDIR: %s", l)
				}
			}
			if !bytes.Contains(out, []byte("BasicDirectory")) {
				t.Errorf("dciodvfy did not read a Basic Directory:\n%s", out)
			}

			paths, _ := dicomzip.Paths(items(fs))
			orig := map[string]fixture{}
			for i, f := range fs {
				orig[strings.Join(paths[i], "/")] = f
				if !anon {
					sameContent(t, strings.Join(paths[i], "/"), f, files[strings.Join(paths[i], "/")])
				}
			}
			// lacks: the file (original, or the de-identified copy) has no value for the attribute.
			lacks := func(file, keyword string) bool {
				info, err := tag.FindByKeyword(keyword)
				if err != nil {
					return false
				}
				b := orig[file].data
				if anon {
					b = files[file]
				}
				ds, _, err := rd.ReadHeader(bytes.NewReader(b), int64(len(b)))
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				e, err := ds.FindElementByTag(info.Tag)
				if err != nil {
					return true
				}
				v, ok := e.Value.GetValue().([]string)
				return !ok || len(v) == 0 || strings.Trim(strings.Join(v, ""), " \x00") == ""
			}
			compressed := func(file string) bool {
				ts := orig[file].meta.TransferSyntax
				return ts != "1.2.840.10008.1.2" && ts != "1.2.840.10008.1.2.1" && ts != "1.2.840.10008.1.2.2"
			}

			strict := exec.Command("dcmmkdir", "-Pgp", "+r", "+D", filepath.Join(dir, "strict.dcmdir"), "DICOM")
			strict.Dir = root
			sout, _ := strict.CombinedOutput()
			invent := 0
			for _, l := range strings.Split(string(sout), "\n") {
				if !strings.HasPrefix(l, "E: ") {
					continue
				}
				if m := missingRe.FindStringSubmatch(l); m != nil && typeTwoKeys[m[1]] && lacks(m[2], m[1]) {
					invent++
					continue
				}
				if m := xferRe.FindStringSubmatch(l); m != nil && compressed(m[2]) {
					continue
				}
				if strings.Contains(l, "cannot be added to DICOMDIR") || strings.HasPrefix(l, "E:   DICOM/") || strings.Contains(l, "no good files") {
					continue // the summary of the lines above
				}
				t.Errorf("dcmmkdir -Pgp: %s", l)
			}
			t.Logf("dcmmkdir -Pgp: %d type 2 attributes without a value in the files", invent)

			lenient := exec.Command("dcmmkdir", "-Pgp", "+r", "+I", "-Nxc", "+D", filepath.Join(dir, "lenient.dcmdir"), "DICOM")
			lenient.Dir = root
			lout, err := lenient.CombinedOutput()
			if err != nil || bytes.Contains(lout, []byte("E: ")) {
				t.Errorf("dcmmkdir -Pgp +I -Nxc: %v\n%s", err, lout)
			}
		})
	}
	_ = zip.Store
}
