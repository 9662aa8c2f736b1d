package deid

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// e11 is PS3.15 Table E.1-1 transcribed row by row (source and edition in
// the file's header). It is parsed at init; Table holds its rows.
//
//go:embed profile/e1-1.tsv
var e11 string

// Row is one row of PS3.15 Table E.1-1.
type Row struct {
	// Tag as the table writes it: "(0010,0010)", a range such as
	// "(50XX,XXXX)" or "(60XX,4000)", or the private-attributes row.
	Tag     string
	Keyword string // PS3.6 keyword ("-" for the range rows)
	VR      string // PS3.6 VR ("-" for the range rows; may be "OB or OW")
	Name    string
	// Profile is the Basic Profile column verbatim, e.g. "X", "Z/D", "X/Z/U*".
	Profile string
	// Action is what this package does (resolveAction).
	Action Action
	// Override says why Action is not the profile's plain reading ("" if it is).
	Override string
}

// Table is every row of PS3.15 Table E.1-1, in tag order.
var Table []Row

// Basic maps every single-tag row of Table (and the extra rows below) to
// the action this package applies. Range rows (curves, overlays, private
// attributes) are matched in ActionFor.
var Basic = map[tag.Tag]Action{}

// rowOf finds the Table row of an exact tag (for its VR).
var rowOf = map[tag.Tag]*Row{}

// overrides change the resolution of a few rows, each for a stated reason.
var overrides = map[string]struct {
	action Action
	why    string
}{
	// Z allows "a non-zero length value that may be a dummy value"
	// (PS3.15 E.1.1); the DICOMDIR STUDY record needs these as type 1
	// (PS3.3 F.5), and media profiles refuse them empty.
	"(0008,0020)": {Dummy, "Study Date: type 1 in the DICOMDIR STUDY record"},
	"(0008,0030)": {Dummy, "Study Time: type 1 in the DICOMDIR STUDY record"},
	"(0020,0010)": {Dummy, "Study ID: type 1 in the DICOMDIR STUDY record"},
	// X/Z: Z would leave an empty sequence, which a type 3 sequence may
	// not be (dciodvfy: "1-n items required"); it is type 3 in the
	// composite IODs (General Study), so it goes.
	"(0008,1110)": {Remove, "Referenced Study Sequence: type 3, an empty sequence is invalid"},
	// An anonymized download carries no report: the SR content tree goes
	// (stronger than D); the read-me of the download says so.
	"(0040,A730)": {Remove, "Content Sequence: the report text is left out"},
}

// Extra rows: attributes outside Table E.1-1 that this package handles the
// same way for the same reasons (sending systems' AE titles, private
// information of the file meta group, instance UIDs that must follow the
// UIDMap, retired or worklist-only attributes that can carry identifiers).
var extra = map[tag.Tag]Action{
	t(0x0002, 0x0016): Remove,     // Source Application Entity Title
	t(0x0002, 0x0017): Remove,     // Sending Application Entity Title
	t(0x0002, 0x0018): Remove,     // Receiving Application Entity Title
	t(0x0002, 0x0100): Remove,     // Private Information Creator UID
	t(0x0002, 0x0102): Remove,     // Private Information
	t(0x0008, 0x9123): ReplaceUID, // Creator-Version UID
	t(0x0010, 0x0024): Remove,     // Issuer of Patient ID Qualifiers Sequence
	t(0x0010, 0x0033): Remove,     // Patient's Birth Date in Alternative Calendar
	t(0x0010, 0x0034): Remove,     // Patient's Death Date in Alternative Calendar
	t(0x0010, 0x0035): Remove,     // Patient's Alternative Calendar
	t(0x0020, 0x0242): ReplaceUID, // SOP Instance UID of Concatenation Source
	t(0x0020, 0x3404): Remove,     // Modifying Device Manufacturer
	t(0x0038, 0x1234): Remove,     // Referenced Patient Alias Sequence (retired)
	t(0x0040, 0x0100): Remove,     // Scheduled Procedure Step Sequence
	t(0x0400, 0x0500): Remove,     // Encrypted Attributes Sequence
}

func t(g, e uint16) tag.Tag { return tag.Tag{Group: g, Element: e} }

// resolveAction turns a Basic Profile code into the action applied. Where
// the profile offers a choice, the object must stay valid under every IOD:
//   - a choice with D (X/D, Z/D, X/Z/D) is D: the standard offers D exactly
//     where some IOD needs the attribute as type 1, and a dummy value keeps
//     any IOD valid; dates and times get the fixed DummyDate, DummyTime and
//     DummyDateTime, so all dates of a download agree;
//   - X/Z is Z: present and empty satisfies a type 2 attribute and a type 3
//     (except a sequence, see overrides);
//   - X/Z/U* (Referenced/Source Image Sequence) keeps the sequence and
//     replaces the UIDs inside (Recurse).
//
// D on a sequence keeps its items, de-identifies them by the table and
// gives the free text and codes in them, at any depth, dummy values.
func resolveAction(tg, profile string) (Action, error) {
	switch profile {
	case "X":
		return Remove, nil
	case "Z":
		return Empty, nil
	case "D":
		return Dummy, nil
	case "U":
		return ReplaceUID, nil
	case "K":
		return Keep, nil
	case "X/Z/U*":
		return Recurse, nil
	case "X/D", "Z/D", "X/Z/D":
		return Dummy, nil
	case "X/Z":
		return Empty, nil
	}
	return 0, fmt.Errorf("deid: table E.1-1 %s: unknown basic profile action %q", tg, profile)
}

// ParseTable parses the tab-separated transcription of Table E.1-1.
func ParseTable(src string) ([]Row, error) {
	var rows []Row
	for i, line := range strings.Split(src, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("deid: e1-1.tsv line %d: %d columns, want 5", i+1, len(f))
		}
		r := Row{Tag: f[0], Keyword: f[1], VR: f[2], Profile: f[3], Name: f[4]}
		a, err := resolveAction(r.Tag, r.Profile)
		if err != nil {
			return nil, err
		}
		r.Action = a
		if o, ok := overrides[r.Tag]; ok {
			r.Action, r.Override = o.action, o.why
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// ExactTag is the tag of a single-tag row (false for the range rows).
func (r Row) ExactTag() (tag.Tag, bool) {
	s := r.Tag
	if len(s) != 11 || s[0] != '(' || s[5] != ',' || s[10] != ')' {
		return tag.Tag{}, false
	}
	g, err1 := strconv.ParseUint(s[1:5], 16, 16)
	e, err2 := strconv.ParseUint(s[6:10], 16, 16)
	if err1 != nil || err2 != nil {
		return tag.Tag{}, false
	}
	return tag.Tag{Group: uint16(g), Element: uint16(e)}, true
}

// Matches reports whether the row covers tg (ranges: x is any hex digit;
// the private row covers every odd group past the file meta group).
func (r Row) Matches(tg tag.Tag) bool {
	if strings.HasPrefix(r.Tag, "(GGGG,EEEE)") {
		return isPrivate(tg)
	}
	want := strings.ToUpper(r.Tag)
	got := fmt.Sprintf("(%04X,%04X)", tg.Group, tg.Element)
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if want[i] != 'X' && want[i] != got[i] {
			return false
		}
	}
	return true
}

func isPrivate(tg tag.Tag) bool {
	return tg.Group&1 == 1 && tg.Group > 0x0008 && tg.Group != 0xFFFF
}

func init() {
	rows, err := ParseTable(e11)
	if err != nil {
		panic(err)
	}
	Table = rows
	for i := range Table {
		if tg, ok := Table[i].ExactTag(); ok {
			Basic[tg] = Table[i].Action
			rowOf[tg] = &Table[i]
		}
	}
	for tg, a := range extra {
		if _, dup := Basic[tg]; dup {
			panic(fmt.Sprintf("deid: extra row %v is in Table E.1-1", tg))
		}
		Basic[tg] = a
	}
}

// ActionFor is the action for tg: private attributes, group lengths,
// curves (50xx,xxxx) and overlay data and comments (60xx,3000/4000) are
// removed; listed attributes get their resolved table action; everything
// else is kept.
func ActionFor(tg tag.Tag) Action {
	switch {
	case isPrivate(tg):
		return Remove // private attribute or private creator (E.3.1 retains none)
	case tg.Element == 0x0000 && tg.Group != 0x0002:
		return Remove // group length (retired; stale once values change)
	case tg.Group >= 0x5000 && tg.Group <= 0x50FF:
		return Remove // curve data (50xx,xxxx)
	case tg.Group >= 0x6000 && tg.Group <= 0x60FF && (tg.Element == 0x3000 || tg.Element == 0x4000):
		return Remove // overlay data and comments
	}
	if a, ok := Basic[tg]; ok {
		return a
	}
	return Keep
}
