package deid_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// dciodvfyErrors runs dicom3tools' dciodvfy on a file and returns its
// error messages, values normalised away (quoted values, numbers inside
// values), so the messages of an original and its de-identified copy can
// be compared as sets.
func dciodvfyErrors(t *testing.T, path string) map[string]bool {
	t.Helper()
	testtool.Need(t, "dciodvfy", "dcmconv")
	out, _ := exec.Command("dciodvfy", path).CombinedOutput() // exit status: errors found
	set := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if !strings.Contains(l, "Error - ") {
			continue
		}
		set[normalise(l)] = true
	}
	return set
}

var (
	quoted  = regexp.MustCompile(`"[^"]*"|'[^']*'|<[0-9.]+>`)
	valueEq = regexp.MustCompile(`(?i)(value|length|=)\s*[-+0-9.eE]+`)
	spaces  = regexp.MustCompile(`\s+`)
)

const deflated = "1.2.840.10008.1.2.1.99"

func normalise(l string) string {
	l = quoted.ReplaceAllString(l, `"…"`)
	l = valueEq.ReplaceAllString(l, "$1 …")
	return strings.TrimSpace(spaces.ReplaceAllString(l, " "))
}

// The bar of PS3.15 for RadPass: every object of a corpus of real files of
// many classes, de-identified, (1) reports no dciodvfy error its original
// does not report, and (2) carries no attribute of Table E.1-1 with a
// non-K action that is not removed, emptied, given its dummy value or its
// new UID, at any depth.
func TestCorpusValidAndDeidentified(t *testing.T) {
	dicomtest.NeedTool(t, "dciodvfy")
	dicomtest.NeedTool(t, "dcmconv")
	files := dicomtest.Corpus(t)
	if len(files) < 40 {
		t.Fatalf("corpus has %d files, want at least 40", len(files))
	}
	m := deid.NewUIDMap()
	dir := t.TempDir()
	for i, f := range files {
		t.Run(strings.ReplaceAll(filepath.Base(f.Path), ".", "_")+"_"+strings.Fields(f.Class)[0], func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := deid.ReadAt(bytes.NewReader(in), int64(len(in)))
			if err != nil {
				t.Fatalf("%s (%s): %v", f.Path, f.Class, err)
			}
			if err := deid.Apply(ds, deid.Options{PatientName: deid.PseudonymName("123456"), PatientID: "123456", UIDs: m}); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := deid.Write(&out, ds); err != nil {
				t.Fatal(err)
			}
			outPath := filepath.Join(dir, fmt.Sprintf("%02d-%s.dcm", i, filepath.Base(f.Path)))
			if err := os.WriteFile(outPath, out.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			orig := f.Path
			if bytes.Contains(in[:min(len(in), 1024)], []byte(deflated)) {
				// dciodvfy cannot read deflate: judge the original inflated by dcmtk.
				orig = filepath.Join(dir, "inflated-"+filepath.Base(outPath))
				if b, err := exec.Command("dcmconv", "+te", f.Path, orig).CombinedOutput(); err != nil {
					t.Fatalf("dcmconv: %v\n%s", err, b)
				}
			}
			before, after := dciodvfyErrors(t, orig), dciodvfyErrors(t, outPath)
			var added []string
			for e := range after {
				if !before[e] {
					added = append(added, e)
				}
			}
			sort.Strings(added)
			t.Logf("%s (%s): dciodvfy errors: %d on the original, %d de-identified", filepath.Base(f.Path), f.Class, len(before), len(after))
			for _, e := range added {
				t.Errorf("%s (%s): new dciodvfy error: %s", filepath.Base(f.Path), f.Class, e)
			}
			back, err := dcm.Parse(bytes.NewReader(out.Bytes()), int64(out.Len()), nil, dcm.SkipProcessingPixelDataValue())
			if err != nil {
				t.Fatalf("de-identified file does not parse: %v", err)
			}
			checkDeidentified(t, back.Elements, m, 0)
			checkLengths(t, &back)
		})
	}
}

// checkDeidentified walks els at every depth: no attribute of the table
// keeps an original value.
func checkDeidentified(t *testing.T, els []*dcm.Element, m *deid.UIDMap, depth int) {
	t.Helper()
	for _, e := range els {
		a := deid.ActionFor(e.Tag)
		isSeq := e.Value.ValueType() == dcm.Sequences
		top := depth == 0 && slices.Contains([]tag.Tag{tag.PatientName, tag.PatientID}, e.Tag)
		switch {
		case top:
		case a == deid.Remove:
			t.Errorf("%v (depth %d): X, still present", e.Tag, depth)
		case a == deid.Empty && isSeq:
			if n := len(e.Value.GetValue().([]*dcm.SequenceItemValue)); n > 0 {
				t.Errorf("%v (depth %d): Z, %d items", e.Tag, depth, n)
			}
		case a == deid.Empty:
			if s := valueString(e); s != "" && s != "0000" {
				t.Errorf("%v (depth %d): Z, value %q", e.Tag, depth, s)
			}
		case (a == deid.ReplaceUID || a == deid.Dummy && e.RawValueRepresentation == "UI") && !isSeq:
			vals, _ := e.Value.GetValue().([]string)
			for _, v := range vals {
				if !newUIDRe.MatchString(v) || !m.IsNew(v) {
					t.Errorf("%v (depth %d): U, %q is not a new UID of this download", e.Tag, depth, v)
				}
			}
		case a == deid.Dummy && !isSeq:
			s := valueString(e)
			want, ok := deid.DummyValue(e.RawValueRepresentation)
			if !ok {
				want = "0"
				if e.Value.ValueType() == dcm.Bytes {
					want = "0000"
				}
			}
			if s != want {
				t.Errorf("%v (depth %d): D, value %q, want %q", e.Tag, depth, s, want)
			}
		}
		if isSeq && a != deid.Remove {
			for _, item := range e.Value.GetValue().([]*dcm.SequenceItemValue) {
				kids := item.GetValue().([]*dcm.Element)
				if a == deid.Dummy {
					in := &dcm.Dataset{Elements: kids}
					if v, ok := str(in, tag.CodeValue); ok && v != deid.DummyCodeValue {
						t.Errorf("%v (depth %d): D sequence keeps code %q", e.Tag, depth, v)
					}
				}
				checkDeidentified(t, kids, m, depth+1)
			}
		}
	}
}
