package dicom_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	rd "github.com/radpass/radpass/shared/dicom"
)

// TestCopyNoRace: a demo copy of every sample carries the new patient and new
// UIDs, keeps its pixels, and dcmtk reads it.
func TestCopyNoRace(t *testing.T) {
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	born := time.Date(1950, 3, 4, 0, 0, 0, 0, time.UTC)
	id := rd.Identity{PatientID: "DEMO-7", Name: rd.PersonName{Family: "Fabre", Given: "Mats"}, BirthDate: &born, Sex: "M"}
	for _, name := range rd.SampleFiles {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			orig, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			c, err := rd.Copy(bytes.NewReader(b), int64(len(b)), id, "demo")
			if err != nil {
				t.Fatal(err)
			}
			dcmdump(t, c)
			m, err := rd.ReadMeta(bytes.NewReader(c), int64(len(c)))
			if err != nil {
				t.Fatal(err)
			}
			if m.PatientID != "DEMO-7" || m.PatientName.Family != "Fabre" || m.PatientName.Given != "Mats" || m.Sex != "M" ||
				m.BirthDate == nil || !m.BirthDate.Equal(born) {
				t.Fatalf("patient %+v %v %s", m.PatientName, m.BirthDate, m.PatientID)
			}
			if m.StudyUID != rd.DerivedUID("demo", orig.StudyUID) || m.SeriesUID == orig.SeriesUID || m.SOPInstanceUID == orig.SOPInstanceUID {
				t.Fatalf("UIDs not replaced: %s %s %s", m.StudyUID, m.SeriesUID, m.SOPInstanceUID)
			}
			_, want := decodeAll(t, b)
			_, got := decodeAll(t, c)
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d", len(got), len(want))
			}
			for f := range got {
				if d := maxDiff(t, got[f], want[f]); d != 0 {
					t.Fatalf("frame %d differs by %d", f, d)
				}
			}
		})
	}
}

// CopyInto moves every sample into the study it names: the study's UID,
// date, time, accession, description and referring physician, the given
// series number, and its own derived series and instance UIDs.
func TestCopyIntoNoRace(t *testing.T) {
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	id := rd.Identity{PatientID: "DEMO-8", Name: rd.PersonName{Family: "Nowak", Given: "Łucja"}, Sex: "F"}
	into := &rd.Into{StudyUID: "2.25.4242", StudyDate: "20261201", StudyTime: "101500", Accession: "ACC42",
		Description: "CT abdomen/pelvis", ReferringPhysician: "Dr. Peeters", SeriesNumber: 7}
	for _, name := range rd.SampleFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		orig, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		c, err := rd.CopyInto(bytes.NewReader(b), int64(len(b)), id, "demo", into)
		if err != nil {
			t.Fatal(err)
		}
		dcmdump(t, c)
		m, err := rd.ReadMeta(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			t.Fatal(err)
		}
		if m.StudyUID != into.StudyUID || m.StudyDate == nil || m.StudyDate.Format("20060102") != into.StudyDate || m.StudyTime != into.StudyTime ||
			m.Accession != into.Accession || m.StudyDescription != into.Description || m.ReferringPhysician == "" ||
			m.SeriesNumber == nil || *m.SeriesNumber != 7 {
			t.Fatalf("%s: study attributes %+v", name, m)
		}
		if m.SeriesUID != rd.DerivedUID("demo", orig.SeriesUID) || m.SOPInstanceUID != rd.DerivedUID("demo", orig.SOPInstanceUID) ||
			m.PatientID != "DEMO-8" || m.PatientName.Given != "Łucja" {
			t.Fatalf("%s: series %s instance %s patient %s %+v", name, m.SeriesUID, m.SOPInstanceUID, m.PatientID, m.PatientName)
		}
	}
}
