package deid_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// fileRows reads profile/e1-1.tsv with a parser of its own (not the
// package's), so the table the package applies is checked against the file.
func fileRows(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile("profile/e1-1.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "(") {
			rows = append(rows, strings.Split(l, "\t"))
		}
	}
	return rows
}

// The table the package applies is the data file, row for row, and every
// row's action is the plain reading of its Basic Profile code but for the
// five stated overrides (Study Date/Time/ID dummies, which Z's definition
// allows; Referenced Study Sequence and the SR Content Sequence removed).
func TestTableIsTheDataFile(t *testing.T) {
	rows := fileRows(t)
	if len(rows) != 621 || len(deid.Table) != len(rows) {
		t.Fatalf("%d rows in the file, %d in deid.Table; PS3.15 2024e Table E.1-1 has 621", len(rows), len(deid.Table))
	}
	allowed := map[string]string{"X": "X", "Z": "Z", "D": "D", "U": "U", "X/Z": "Z", "X/D": "D", "Z/D": "D",
		"X/Z/D": "D", "X/Z/U*": "R"}
	var overridden []string
	for i, f := range rows {
		r := deid.Table[i]
		if got := []string{r.Tag, r.Keyword, r.VR, r.Profile, r.Name}; !slices.Equal(got, f) {
			t.Errorf("row %d: table %q, file %q", i, got, f)
		}
		ok := strings.ContainsRune(allowed[f[3]], rune(r.Action))
		if r.Override != "" {
			overridden = append(overridden, f[0])
			ok = true
		}
		if !ok {
			t.Errorf("%s %s: profile %q, action %c", f[0], f[4], f[3], r.Action)
		}
		for _, tg := range instances(r) {
			if !r.Matches(tg) || deid.ActionFor(tg) != r.Action {
				t.Errorf("%s: %v matches %v, ActionFor %c, table %c", f[0], tg, r.Matches(tg), deid.ActionFor(tg), r.Action)
			}
		}
	}
	if want := []string{"(0008,0020)", "(0008,0030)", "(0008,1110)", "(0020,0010)", "(0040,A730)"}; !slices.Equal(overridden, want) {
		t.Errorf("overridden rows %v, want %v", overridden, want)
	}
}

// instances are concrete tags for a row: its tag, or two members of a range.
func instances(r deid.Row) []tag.Tag {
	if tg, ok := r.ExactTag(); ok {
		return []tag.Tag{tg}
	}
	switch {
	case strings.HasPrefix(r.Tag, "(GGGG"):
		return []tag.Tag{{Group: 0x0009, Element: 0x1001}, {Group: 0x7FE1, Element: 0x1010}}
	case r.Tag == "(50XX,XXXX)":
		return []tag.Tag{{Group: 0x5000, Element: 0x3000}, {Group: 0x50FE, Element: 0x0010}}
	}
	g, _ := strconv.ParseUint(r.Tag[1:3], 16, 8)
	e, _ := strconv.ParseUint(r.Tag[6:10], 16, 16)
	return []tag.Tag{{Group: uint16(g) << 8, Element: uint16(e)}, {Group: uint16(g)<<8 | 0x1E, Element: uint16(e)}}
}

// vrOfRow is the VR a test element of the row gets.
func vrOfRow(r deid.Row) string {
	switch {
	case r.VR == "OB or OW" || r.Tag == "(50XX,XXXX)":
		return "OB"
	case strings.HasPrefix(r.Tag, "(GGGG"):
		return "LO"
	}
	return r.VR
}

// secret is an identifying original value of the VR; its strings contain
// "SECRET" (or, for dates, times and UIDs, a value test checks for).
func secret(t *testing.T, n int, vr string) (dcm.Value, string) {
	var data any
	var s string
	switch vr {
	case "DA":
		s = "20240131"
	case "TM":
		s = "101112"
	case "DT":
		s = "20240131101112"
	case "UI":
		s = fmt.Sprintf("1.2.826.0.1.3680043.9.77.%d", n)
	case "AS":
		s = "045Y"
	case "DS":
		s = "12.5"
	case "IS":
		s = "42"
	case "PN":
		s = "SECRET^Person"
	case "AE", "CS", "SH":
		s = "SECRET"
	case "LO", "LT", "ST", "UT", "UC", "UR":
		s = "SECRET text"
	case "US", "SS", "UL", "SL":
		data = []int{7}
	case "OB", "OW", "UN":
		data = []byte("SECRET")
	default:
		t.Fatalf("no test value for VR %q", vr)
	}
	if data == nil {
		data = []string{s}
	}
	v, err := dcm.NewValue(data)
	if err != nil {
		t.Fatal(err)
	}
	return v, s
}

func rawEl(tg tag.Tag, vr string, v dcm.Value) *dcm.Element {
	return &dcm.Element{Tag: tg, RawValueRepresentation: vr, ValueRepresentation: tag.GetVRKind(tg, vr), Value: v}
}

// secretItem is the item put into a sequence row: a code, a referenced
// instance UID and, one sequence deeper, free text (Text Object Sequence >
// Unformatted Text Value), all identifying.
func secretItem(t *testing.T, n int) ([]*dcm.Element, string) {
	u := fmt.Sprintf("1.2.826.0.1.3680043.9.88.%d", n)
	return []*dcm.Element{
		el(t, tag.CodeValue, []string{"SECRETCODE"}),
		el(t, tag.CodingSchemeDesignator, []string{"L"}),
		el(t, tag.CodeMeaning, []string{"SECRET meaning"}),
		el(t, tag.ReferencedSOPInstanceUID, []string{u}),
		seq(t, tag.Tag{Group: 0x0070, Element: 0x0008}, []*dcm.Element{
			rawEl(tag.Tag{Group: 0x0070, Element: 0x0006}, "ST", mustValue(t, []string{"SECRET annotation"})),
		}),
	}, u
}

func mustValue(t *testing.T, data any) dcm.Value {
	v, err := dcm.NewValue(data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// hasSecret reports an original text value anywhere under e.
func hasSecret(e *dcm.Element) bool {
	ds := dcm.Dataset{Elements: []*dcm.Element{e}}
	for x := range ds.FlatIterator() {
		if v, ok := x.Value.GetValue().([]string); ok && strings.Contains(strings.Join(v, ""), "SECRET") {
			return true
		}
	}
	return false
}

// nest puts e two sequences deep: Shared Functional Groups Sequence >
// Frame Content Sequence > e (neither is in Table E.1-1).
func nest(t *testing.T, e *dcm.Element) *dcm.Element {
	inner := seq(t, tag.Tag{Group: 0x0020, Element: 0x9111}, []*dcm.Element{e})
	return seq(t, tag.Tag{Group: 0x5200, Element: 0x9229}, []*dcm.Element{inner})
}

// find returns the element tg at the top level (depth 0) or two deep.
func find(ds *dcm.Dataset, tg tag.Tag, depth int) *dcm.Element {
	els := ds.Elements
	for _, st := range []tag.Tag{{Group: 0x5200, Element: 0x9229}, {Group: 0x0020, Element: 0x9111}}[:depth] {
		var next []*dcm.Element
		for _, e := range els {
			if e.Tag == st {
				items := e.Value.GetValue().([]*dcm.SequenceItemValue)
				if len(items) == 1 {
					next = items[0].GetValue().([]*dcm.Element)
				}
			}
		}
		els = next
	}
	for _, e := range els {
		if e.Tag == tg {
			return e
		}
	}
	return nil
}

// Every row of Table E.1-1, at the top level and two sequences deep: the
// attribute is removed, emptied, given the dummy value of its VR, or its
// UID replaced through the download's map, as its resolved action says.
func TestEveryRowAtAnyDepth(t *testing.T) {
	n := 0
	for _, r := range deid.Table {
		for _, tg := range instances(r) {
			for _, depth := range []int{0, 2} {
				n++
				name := fmt.Sprintf("%s %v depth %d", r.Name, tg, depth)
				vr := vrOfRow(r)
				var e *dcm.Element
				var orig string
				if vr == "SQ" {
					item, u := secretItem(t, n)
					e = seq(t, tg, item)
					e.RawValueRepresentation = "SQ"
					orig = u
				} else {
					var v dcm.Value
					v, orig = secret(t, n, vr)
					e = rawEl(tg, vr, v)
				}
				ds := &dcm.Dataset{Elements: []*dcm.Element{e}}
				if depth > 0 {
					ds.Elements = []*dcm.Element{nest(t, e)}
				}
				m := deid.NewUIDMap()
				if err := deid.Apply(ds, deid.Options{PatientName: "Anonymous^1", PatientID: "1", UIDs: m}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got := find(ds, tg, depth)
				checkAction(t, name, r.Action, vr, got, orig, m, depth == 0)
				checkLengths(t, ds)
			}
		}
	}
	if n < 2*621 {
		t.Fatalf("only %d cases", n)
	}
}

func checkAction(t *testing.T, name string, a deid.Action, vr string, e *dcm.Element, orig string, m *deid.UIDMap, top bool) {
	t.Helper()
	if a == deid.Remove {
		if e != nil {
			t.Errorf("%s: X, still present", name)
		}
		return
	}
	if e == nil {
		t.Errorf("%s: %c, removed", name, a)
		return
	}
	if top && (e.Tag == tag.PatientName || e.Tag == tag.PatientID) {
		return // replaced by Options
	}
	mapped, _ := m.Lookup(orig)
	switch {
	case a == deid.Empty && vr == "SQ":
		if n := len(e.Value.GetValue().([]*dcm.SequenceItemValue)); n != 0 {
			t.Errorf("%s: Z, %d items left", name, n)
		}
	case a == deid.Empty:
		if s := valueString(e); s != "" {
			t.Errorf("%s: Z, value %q", name, s)
		}
	case vr == "SQ": // D and R keep the items, de-identified
		items := e.Value.GetValue().([]*dcm.SequenceItemValue)
		if len(items) != 1 {
			t.Fatalf("%s: %c, %d items", name, a, len(items))
		}
		in := &dcm.Dataset{Elements: items[0].GetValue().([]*dcm.Element)}
		ref, _ := str(in, tag.ReferencedSOPInstanceUID)
		if ref != mapped || mapped == "" {
			t.Errorf("%s: %c, referenced UID %q not replaced (map %q)", name, a, ref, mapped)
		}
		code, _ := str(in, tag.CodeValue)
		if a == deid.Dummy && (code != deid.DummyCodeValue || hasSecret(e)) {
			t.Errorf("%s: D, code %q, original text left %v", name, code, hasSecret(e))
		}
	case a == deid.ReplaceUID || a == deid.Dummy && vr == "UI":
		if s := valueString(e); s != mapped || !newUIDRe.MatchString(s) {
			t.Errorf("%s: %c, %q, want the mapped %q", name, a, s, mapped)
		}
	case a == deid.Dummy:
		s := valueString(e)
		want, isString := deid.DummyValue(vr)
		if !isString {
			want = "0" // numbers
			if e.Value.ValueType() == dcm.Bytes {
				want = "0000" // two zero bytes
			}
		}
		if s != want {
			t.Errorf("%s: D, value %q (want %q)", name, s, want)
		}
	default:
		t.Errorf("%s: unexpected action %c", name, a)
	}
}

// valueString renders a non-sequence value for comparison.
func valueString(e *dcm.Element) string {
	switch v := e.Value.GetValue().(type) {
	case []string:
		return strings.Join(v, `\`)
	case []byte:
		return fmt.Sprintf("%x", v)
	case []int:
		return strings.Trim(fmt.Sprint(v), "[]")
	case []float64:
		return strings.Trim(fmt.Sprint(v), "[]")
	}
	return fmt.Sprint(e.Value)
}

// maxLen is the maximum value length of each string VR (PS3.5 6.2), in
// characters (bytes for these VRs' ASCII values).
var maxLen = map[string]int{"AE": 16, "AS": 4, "CS": 16, "DA": 8, "DS": 16, "DT": 26, "IS": 12, "LO": 64,
	"SH": 16, "TM": 14, "UI": 64, "PN": 64 * 3, "ST": 1024, "LT": 10240}

// checkLengths: every string value written, at any depth, fits its VR.
func checkLengths(t *testing.T, ds *dcm.Dataset) {
	t.Helper()
	for e := range ds.FlatIterator() {
		max, ok := maxLen[e.RawValueRepresentation]
		vals, isStr := e.Value.GetValue().([]string)
		if !ok || !isStr {
			continue
		}
		for _, v := range vals {
			if len(v) > max || e.RawValueRepresentation == "PN" && len(v) > 64 && !strings.Contains(v, "=") {
				t.Errorf("%v %s value %q is %d characters, VR allows %d", e.Tag, e.RawValueRepresentation, v, len(v), max)
			}
		}
	}
}

func TestDummyValuesFitTheirVR(t *testing.T) {
	if len(deid.MethodText) > 64 {
		t.Errorf("MethodText is %d characters; LO allows 64", len(deid.MethodText))
	}
	for vr, max := range maxLen {
		if v, ok := deid.DummyValue(vr); ok && len(v) > max {
			t.Errorf("dummy %s %q longer than %d", vr, v, max)
		}
	}
	for _, c := range []struct{ v, vr string }{{deid.DummyCodeValue, "SH"}, {deid.DummyCodeScheme, "SH"},
		{deid.DummyCodeMeaning, "LO"}, {deid.ImplementationVersionName, "SH"}, {deid.ImplementationClassUID, "UI"}} {
		if len(c.v) > maxLen[c.vr] {
			t.Errorf("%q longer than %s allows", c.v, c.vr)
		}
	}
}

// Attributes stored with VR UN (a file converted from implicit VR, a tag
// the sender did not know) get their action with the table's VR: a UN
// Series Date becomes the DA dummy, a UN Study Instance UID a new UI.
func TestUNValuesByTableVR(t *testing.T) {
	raw, err := rd.Synth{StudyUID: "1.2.826.0.1.3680043.9.5", SeriesUID: "1.2.826.0.1.3680043.9.5.1",
		SOPUID: "1.2.826.0.1.3680043.9.5.1.1", PatientID: origID, PatientName: origName, Rows: 4, Cols: 4,
		BitsAllocated: 8, Pixel: func(f, i, s int) int { return i }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ds := parse(t, raw)
	un := func(tg tag.Tag, s string) *dcm.Element {
		v, err := dcm.NewValue([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return rawEl(tg, "UN", v)
	}
	ds.Elements = slices.DeleteFunc(ds.Elements, func(e *dcm.Element) bool { return e.Tag == tag.StudyInstanceUID })
	for _, e := range []*dcm.Element{un(tag.SeriesDate, "20240131"), un(tag.StudyInstanceUID, "1.2.826.0.1.3680043.9.6\x00"),
		un(tag.ReferringPhysicianName, "SECRET^Doctor "), un(tag.Tag{Group: 0x0018, Element: 0x1078}, "20240131101112")} {
		ds.Elements = insert(ds.Elements, e)
	}
	var in bytes.Buffer
	if err := dcm.Write(&in, ds, dcm.SkipVRVerification()); err != nil {
		t.Fatal(err)
	}
	m := deid.NewUIDMap()
	back := parse(t, rewrite(t, in.Bytes(), m))
	e, err := back.FindElementByTag(tag.SeriesDate)
	if err != nil || e.RawValueRepresentation != "DA" || valueString(e) != deid.DummyDate {
		t.Errorf("UN Series Date: %v %v", e, err)
	}
	e, err = back.FindElementByTag(tag.StudyInstanceUID)
	if n, _ := m.Lookup("1.2.826.0.1.3680043.9.6"); err != nil || e.RawValueRepresentation != "UI" || valueString(e) != n || n == "" {
		t.Errorf("UN Study Instance UID: %v %v (map %q)", e, err, n)
	}
	if e, err := back.FindElementByTag(tag.ReferringPhysicianName); err != nil || valueString(e) != "" {
		t.Errorf("UN Referring Physician's Name: %v %v", e, err)
	}
	if _, err := back.FindElementByTag(tag.Tag{Group: 0x0018, Element: 0x1078}); err == nil {
		t.Error("UN Radiopharmaceutical Start DateTime kept")
	}
	dcmdump(t, rewrite(t, in.Bytes(), deid.NewUIDMap()))
}
