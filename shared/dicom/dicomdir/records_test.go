package dicomdir_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/dicom/dicomdir"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

func el(t *testing.T, tg tag.Tag, v any) *dcm.Element {
	t.Helper()
	e, err := dcm.NewElement(tg, v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// dataset is a header of the given class with the patient, study and
// series keys (Study ID 77) and the extra elements.
func dataset(t *testing.T, class, sop string, extra ...*dcm.Element) *dcm.Dataset {
	t.Helper()
	els := []*dcm.Element{
		el(t, tag.TransferSyntaxUID, []string{"1.2.840.10008.1.2.1"}),
		el(t, tag.SOPClassUID, []string{class}),
		el(t, tag.SOPInstanceUID, []string{sop}),
		el(t, tag.StudyDate, []string{"20250102"}),
		el(t, tag.StudyTime, []string{"101010"}),
		el(t, tag.Modality, []string{"OT"}),
		el(t, tag.PatientName, []string{"Doe^Jane"}),
		el(t, tag.PatientID, []string{"P7"}),
		el(t, tag.StudyInstanceUID, []string{"1.2.3"}),
		el(t, tag.SeriesInstanceUID, []string{"1.2.3.4"}),
		el(t, tag.StudyID, []string{"77"}),
		el(t, tag.SeriesNumber, []string{"2"}),
		el(t, tag.InstanceNumber, []string{"5"}),
	}
	return &dcm.Dataset{Elements: append(els, extra...)}
}

// The record of each type carries its PS3.3 F.5 keys from the file's own
// data set (the study's ID too), a class without a record type and
// without pixels gets a PRIVATE record, and dciodvfy finds no error in the
// DICOMDIR; a file lacking a type 1 key of its record is refused, and
// AsPrivate keeps it referenced.
func TestRecordsFromDataset(t *testing.T) {
	code := el(t, tag.ConceptNameCodeSequence, [][]*dcm.Element{{
		el(t, tag.CodeValue, []string{"18748-4"}), el(t, tag.CodingSchemeDesignator, []string{"LN"}), el(t, tag.CodeMeaning, []string{"Diagnostic imaging report"})}})
	verifier := el(t, tag.VerifyingObserverSequence, [][]*dcm.Element{{
		el(t, tag.VerifyingOrganization, []string{"X"}), el(t, tag.VerificationDateTime, []string{"20250103120000"})}})
	cases := []struct {
		name, typ string
		ds        *dcm.Dataset
		want      map[tag.Tag]string
	}{
		{"rt dose", "RT DOSE", dataset(t, "1.2.840.10008.5.1.4.1.1.481.2", "1.9.1", el(t, tag.DoseSummationType, []string{"PLAN"})),
			map[tag.Tag]string{tag.DoseSummationType: "PLAN", tag.InstanceNumber: "5"}},
		{"sr", "SR DOCUMENT", dataset(t, "1.2.840.10008.5.1.4.1.1.88.11", "1.9.2", el(t, tag.ContentDate, []string{"20250103"}),
			el(t, tag.ContentTime, []string{"111111"}), el(t, tag.CompletionFlag, []string{"COMPLETE"}),
			el(t, tag.VerificationFlag, []string{"VERIFIED"}), code, verifier),
			map[tag.Tag]string{tag.CompletionFlag: "COMPLETE", tag.VerificationFlag: "VERIFIED", tag.ContentDate: "20250103",
				tag.ContentTime: "111111", tag.VerificationDateTime: "20250103120000"}},
		{"presentation", "PRESENTATION", dataset(t, "1.2.840.10008.5.1.4.1.1.11.1", "1.9.3", el(t, tag.ContentLabel, []string{"GSPS"}),
			el(t, tag.PresentationCreationDate, []string{"20250103"}), el(t, tag.PresentationCreationTime, []string{"121212"}),
			el(t, tag.ReferencedSeriesSequence, [][]*dcm.Element{{
				el(t, tag.ReferencedImageSequence, [][]*dcm.Element{{el(t, tag.ReferencedSOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.7"}),
					el(t, tag.ReferencedSOPInstanceUID, []string{"1.9.9"})}}),
				el(t, tag.SeriesInstanceUID, []string{"1.2.3.4"})}})),
			map[tag.Tag]string{tag.ContentLabel: "GSPS", tag.PresentationCreationDate: "20250103", tag.ContentDescription: "", tag.ContentCreatorName: ""}},
		{"private", "PRIVATE", dataset(t, "1.2.840.10008.5.1.4.1.1.200.2", "1.9.4"), // Protocol Approval: no record type, no pixels
			map[tag.Tag]string{tag.PrivateRecordUID: "1.2.840.10008.5.1.4.1.1.200.2"}},
	}
	var ins []dicomdir.Instance
	for i, c := range cases {
		in, err := dicomdir.FromDataset(c.ds, []string{"DICOM", "S0001", "I000" + string(rune('1'+i))})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if in.RecordType != c.typ || in.StudyID != "77" {
			t.Errorf("%s: record %s, study ID %q", c.name, in.RecordType, in.StudyID)
		}
		ins = append(ins, in)
	}
	b := write(t, ins)
	roots, _ := Read(t, b)
	st := roots[0].Children[0]
	if st.Keys[tag.StudyID] != "77" {
		t.Errorf("study ID %q, the file's is 77", st.Keys[tag.StudyID])
	}
	for i, n := range st.Children[0].Children {
		c := cases[i]
		if n.Type != c.typ {
			t.Errorf("%s: record %s", c.name, n.Type)
		}
		for tg, w := range c.want {
			if got, ok := n.Keys[tg]; !ok || got != w {
				t.Errorf("%s: %v = %q (present %v), want %q", c.name, tg, got, ok, w)
			}
		}
	}
	dciodvfy(t, b)

	_, err := dicomdir.FromDataset(dataset(t, "1.2.840.10008.5.1.4.1.1.481.2", "1.9.5"), []string{"DICOM", "I1"})
	if !errors.Is(err, dicomdir.ErrMissingKey) {
		t.Fatalf("RT dose without Dose Summation Type: %v", err)
	}
	in, _ := dicomdir.FromDataset(dataset(t, "1.2.840.10008.5.1.4.1.1.481.2", "1.9.5"), []string{"DICOM", "I1"})
	if in, err = dicomdir.AsPrivate(in); err != nil || in.RecordType != "PRIVATE" {
		t.Fatalf("AsPrivate: %v %s", err, in.RecordType)
	}
	dciodvfy(t, write(t, []dicomdir.Instance{in}))
}

// dciodvfy (dicom3tools) finds no error in the DICOMDIR.
func dciodvfy(t *testing.T, b []byte) {
	t.Helper()
	bin := testtool.Path(t, "dciodvfy")
	f := filepath.Join(t.TempDir(), "DICOMDIR")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, f).CombinedOutput()
	if !bytes.Contains(out, []byte("BasicDirectory")) {
		t.Errorf("dciodvfy did not read a Basic Directory:\n%s", out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Error") {
			t.Errorf("dciodvfy: %s", l)
		}
	}
}
