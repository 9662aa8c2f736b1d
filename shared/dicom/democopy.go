package dicom

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"time"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Identity is the patient a copy of an instance is made for.
type Identity struct {
	PatientID string
	Name      PersonName
	BirthDate *time.Time
	Sex       string
}

// DerivedUID is a UID under the 2.25 root (PS3.5 B.2) computed from salt
// and uid: the same inputs always give the same UID, distinct inputs
// distinct UIDs (128 bits of SHA-256).
func DerivedUID(salt, uid string) string {
	h := sha256.Sum256([]byte(salt + "\x00" + uid))
	return "2.25." + new(big.Int).SetBytes(h[:16]).String()
}

// Copy returns the DICOM file read from r rewritten for id: patient name,
// ID, birth date and sex replaced, and the study, series and SOP instance
// UIDs (file meta included) replaced by DerivedUID(salt, old). A deflated
// file is written back as explicit VR little endian. Nested references
// to other instances are left as they are.
func Copy(r io.ReaderAt, size int64, id Identity, salt string) ([]byte, error) {
	return CopyInto(r, size, id, salt, nil)
}

// Into is the study a copy joins: its UID and the study attributes the
// study list shows, and the number of the copy's series in it.
type Into struct {
	StudyUID, StudyDate, StudyTime, Accession, Description, ReferringPhysician string
	SeriesNumber                                                               int
}

// CopyInto is Copy that also moves the instance into the study into
// describes (nil: its own study, as Copy): a real sample file becomes one
// more series of a demo study.
func CopyInto(r io.ReaderAt, size int64, id Identity, salt string, into *Into) ([]byte, error) {
	r, size, ok := withFileMeta(r, size)
	if !ok {
		return nil, ErrNotDICOM
	}
	if err := checkLengths(r, size); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDICOM, err)
	}
	var ds dcm.Dataset
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: parser panic: %v", ErrNotDICOM, p)
			}
		}()
		ds, err = dcm.Parse(io.NewSectionReader(r, 0, size), size, nil, dcm.AllowUnknownSpecificCharacterSet())
	}()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotDICOM, err)
	}
	name := id.Name.Family + "^" + id.Name.Given
	if id.Name.Middle != "" || id.Name.Prefix != "" || id.Name.Suffix != "" {
		name += "^" + id.Name.Middle + "^" + id.Name.Prefix + "^" + id.Name.Suffix
	}
	birth := ""
	if id.BirthDate != nil {
		birth = id.BirthDate.Format("20060102")
	}
	set := map[tag.Tag][]string{
		tag.PatientName:      {name},
		tag.PatientID:        {id.PatientID},
		tag.PatientBirthDate: {birth},
		tag.PatientSex:       {id.Sex},
		// UTF-8, so any demo name is stored as it is.
		tag.SpecificCharacterSet: {"ISO_IR 192"},
	}
	for _, t := range []tag.Tag{tag.StudyInstanceUID, tag.SeriesInstanceUID, tag.SOPInstanceUID, tag.MediaStorageSOPInstanceUID} {
		if old := str(ds, t); old != "" {
			set[t] = []string{DerivedUID(salt, old)}
		}
	}
	if into != nil {
		set[tag.StudyInstanceUID] = []string{into.StudyUID}
		set[tag.StudyDate] = []string{into.StudyDate}
		set[tag.StudyTime] = []string{into.StudyTime}
		set[tag.AccessionNumber] = []string{into.Accession}
		set[tag.StudyDescription] = []string{into.Description}
		set[tag.ReferringPhysicianName] = []string{into.ReferringPhysician}
		set[tag.SeriesNumber] = []string{strconv.Itoa(into.SeriesNumber)}
	}
	if str(ds, tag.TransferSyntaxUID) == tsDeflated {
		set[tag.TransferSyntaxUID] = []string{tsExplicitLE}
	}
	for t, v := range set {
		e, err := ds.FindElementByTag(t)
		if err != nil {
			ne, nerr := dcm.NewElement(t, v)
			if nerr != nil {
				return nil, nerr
			}
			ds.Elements = append(ds.Elements, ne)
			continue
		}
		ne, err := dcm.NewElement(t, v)
		if err != nil {
			return nil, err
		}
		e.Value = ne.Value
		e.ValueLength = 0 // recomputed by the writer
	}
	sortElements(ds.Elements)
	var buf bytes.Buffer
	if err := dcm.Write(&buf, ds, dcm.SkipVRVerification(), dcm.DefaultMissingTransferSyntax()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sortElements orders top-level elements by tag (inserted ones last otherwise).
func sortElements(els []*dcm.Element) {
	for i := 1; i < len(els); i++ {
		for j := i; j > 0 && tagLess(els[j].Tag, els[j-1].Tag); j-- {
			els[j], els[j-1] = els[j-1], els[j]
		}
	}
}

func tagLess(a, b tag.Tag) bool {
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	return a.Element < b.Element
}
