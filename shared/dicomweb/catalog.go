package dicomweb

import (
	"context"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/dicom/deid"
)

// entry is one instance a viewer link serves, with the UIDs it is served
// under (the de-identified ones for an anonymized access).
type entry struct {
	buckets.File
	study, series, sop string
}

// catalog is what one request of a link may see: the instances of the
// access's studies a patient sees (an anonymized access leaves out what its
// ZIP leaves out), in reading order.
type catalog struct {
	bucket  *database.Bucket
	entries []entry
	uids    *deid.UIDMap // the access's keyed map (anonymized), else nil
}

func (r *Reader) catalog(ctx context.Context, b *database.Bucket) (*catalog, error) {
	files, _, err := r.Buckets.Files(ctx, b)
	if err != nil {
		return nil, err
	}
	cat := &catalog{bucket: b}
	if b.Anonymized {
		cat.uids = deid.NewKeyedUIDMap(r.Buckets.AnonUIDKey(b))
	}
	for _, f := range files {
		e := entry{File: f, study: f.Study.StudyUID, series: f.Series.SeriesUID, sop: f.Instance.SOPUID}
		if cat.uids != nil {
			e.study, e.series, e.sop = cat.uids.Map(e.study), cat.uids.Map(e.series), cat.uids.Map(e.sop)
		}
		cat.entries = append(cat.entries, e)
	}
	return cat, nil
}

// selectEntries are the instances under the given UIDs ("" matches any).
func (c *catalog) selectEntries(study, series, sop string) []entry {
	var out []entry
	for _, e := range c.entries {
		if (study == "" || e.study == study) && (series == "" || e.series == series) && (sop == "" || e.sop == sop) {
			out = append(out, e)
		}
	}
	return out
}

// Tags of the QIDO-RS answers (PS3.18 10.6.3.3).
const (
	tSpecificCharset   = "00080005"
	tStudyDate         = "00080020"
	tStudyTime         = "00080030"
	tAccession         = "00080050"
	tModalitiesInStudy = "00080061"
	tModality          = "00080060"
	tReferringPhys     = "00080090"
	tSOPClass          = "00080016"
	tSOPInstance       = "00080018"
	tStudyDescription  = "00081030"
	tSeriesDescription = "0008103E"
	tRetrieveURL       = "00081190"
	tPatientName       = "00100010"
	tPatientID         = "00100020"
	tPatientBirthDate  = "00100030"
	tPatientSex        = "00100040"
	tStudyUID          = "0020000D"
	tSeriesUID         = "0020000E"
	tStudyID           = "00200010"
	tSeriesNumber      = "00200011"
	tInstanceNumber    = "00200013"
	tNumStudySeries    = "00201206"
	tNumStudyInstances = "00201208"
	tNumSeriesInst     = "00201209"
	tRows              = "00280010"
	tColumns           = "00280011"
	tNumberOfFrames    = "00280008"
	tTransferSyntax    = "00083002" // Available Transfer Syntax UID
)

// keywords are the query keys a QIDO-RS request may name by keyword.
var keywords = map[string]string{
	"StudyInstanceUID": tStudyUID, "SeriesInstanceUID": tSeriesUID, "SOPInstanceUID": tSOPInstance,
	"SOPClassUID": tSOPClass, "PatientName": tPatientName, "PatientID": tPatientID, "StudyDate": tStudyDate,
	"StudyTime": tStudyTime, "AccessionNumber": tAccession, "ModalitiesInStudy": tModalitiesInStudy,
	"Modality": tModality, "StudyDescription": tStudyDescription, "SeriesDescription": tSeriesDescription,
	"SeriesNumber": tSeriesNumber, "InstanceNumber": tInstanceNumber, "ReferringPhysicianName": tReferringPhys,
	"StudyID": tStudyID, "PatientBirthDate": tPatientBirthDate, "PatientSex": tPatientSex,
}

func str(vr, v string) jsonAttr {
	if v == "" {
		return jsonAttr{VR: vr}
	}
	return jsonAttr{VR: vr, Value: []any{v}}
}

func pn(v string) jsonAttr {
	if v == "" {
		return jsonAttr{VR: "PN"}
	}
	return jsonAttr{VR: "PN", Value: []any{map[string]string{"Alphabetic": v}}}
}

func intAttr(vr string, n *int) jsonAttr {
	if n == nil {
		return jsonAttr{VR: vr}
	}
	return jsonAttr{VR: vr, Value: []any{*n}}
}

func count(vr string, n int) jsonAttr { return jsonAttr{VR: vr, Value: []any{n}} }

func dicomDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("20060102")
}

// studyAttrs are the study-level attributes of entries es (one study).
func (c *catalog) studyAttrs(es []entry, base string) jsonDataset {
	e := es[0]
	st := e.Study
	mods, series := []any{}, map[string]bool{}
	seen := map[string]bool{}
	for _, x := range es {
		series[x.series] = true
		if m := x.Series.Modality; m != "" && !seen[m] {
			seen[m] = true
			mods = append(mods, m)
		}
	}
	d := jsonDataset{
		tSpecificCharset:   str("CS", "ISO_IR 192"),
		tStudyUID:          str("UI", e.study),
		tModalitiesInStudy: {VR: "CS", Value: mods},
		tNumStudySeries:    count("IS", len(series)),
		tNumStudyInstances: count("IS", len(es)),
		tRetrieveURL:       str("UR", base+"/studies/"+e.study),
	}
	if c.bucket.Anonymized {
		// What the de-identified files keep: the pseudonym, no date,
		// description, accession or referring physician.
		d[tPatientName] = pn(deid.PseudonymName(c.bucket.AnonNumber))
		d[tPatientID] = str("LO", c.bucket.AnonNumber)
		return d
	}
	d[tStudyDate] = str("DA", dicomDate(st.StudyDate))
	d[tStudyTime] = str("TM", st.StudyTime)
	d[tAccession] = str("SH", st.Accession)
	d[tStudyDescription] = str("LO", st.Description)
	d[tReferringPhys] = pn(st.ReferringPhysician)
	if p := st.Patient; p != nil {
		d[tPatientName] = pn(strings.TrimRight(strings.Join([]string{p.FamilyName, p.GivenName, p.MiddleName, p.NamePrefix, p.NameSuffix}, "^"), "^"))
		d[tPatientID] = str("LO", p.PatientID)
		d[tPatientBirthDate] = str("DA", dicomDate(p.BirthDate))
		d[tPatientSex] = str("CS", p.Sex)
	}
	return d
}

// seriesAttrs are the series-level attributes of entries es (one series).
func (c *catalog) seriesAttrs(es []entry, base string) jsonDataset {
	e := es[0]
	d := jsonDataset{
		tSpecificCharset: str("CS", "ISO_IR 192"),
		tStudyUID:        str("UI", e.study),
		tSeriesUID:       str("UI", e.series),
		tModality:        str("CS", e.Series.Modality),
		tSeriesNumber:    intAttr("IS", e.Series.Number),
		tNumSeriesInst:   count("IS", len(es)),
		tRetrieveURL:     str("UR", base+"/studies/"+e.study+"/series/"+e.series),
	}
	if !c.bucket.Anonymized {
		d[tSeriesDescription] = str("LO", e.Series.Description)
	}
	return d
}

// instanceAttrs are the instance-level attributes of e.
func (c *catalog) instanceAttrs(e entry, base string) jsonDataset {
	in := e.Instance
	frames := max(in.Frames, 1)
	d := jsonDataset{
		tSpecificCharset: str("CS", "ISO_IR 192"),
		tStudyUID:        str("UI", e.study),
		tSeriesUID:       str("UI", e.series),
		tSOPClass:        str("UI", in.SOPClassUID),
		tSOPInstance:     str("UI", e.sop),
		tInstanceNumber:  intAttr("IS", in.Number),
		tRetrieveURL:     str("UR", base+"/studies/"+e.study+"/series/"+e.series+"/instances/"+e.sop),
	}
	if in.Rows > 0 {
		d[tRows] = count("US", in.Rows)
		d[tColumns] = count("US", in.Columns)
		d[tNumberOfFrames] = count("IS", frames)
	}
	if in.TransferSyntax != "" {
		d[tTransferSyntax] = str("UI", c.servedTransferSyntax(in))
	}
	return d
}

// servedTransferSyntax is the transfer syntax an instance is sent in: as
// stored, except that a de-identified copy of an implicit VR or deflated
// file is explicit VR little endian (dicomzip.Deidentified).
func (c *catalog) servedTransferSyntax(in *database.Instance) string {
	if c.uids != nil && (in.TransferSyntax == implicitVRLE || in.TransferSyntax == deflatedLE) {
		return explicitVRLE
	}
	return in.TransferSyntax
}

const (
	implicitVRLE = "1.2.840.10008.1.2"
	explicitVRLE = "1.2.840.10008.1.2.1"
	deflatedLE   = "1.2.840.10008.1.2.1.99"
)

// match reports whether attribute value a matches the query value q
// (PS3.4 C.2.2.2): a list of UIDs, a "*"/"?" wildcard (case-insensitive
// for names), a date range "a-b", or a single value.
func match(a jsonAttr, q string) bool {
	if q == "" || q == "*" {
		return true
	}
	vals := attrStrings(a)
	if a.VR == "UI" {
		for _, want := range strings.Split(q, ",") {
			for _, v := range vals {
				if v == strings.TrimSpace(want) {
					return true
				}
			}
		}
		return false
	}
	if (a.VR == "DA" || a.VR == "TM") && strings.Contains(q, "-") {
		from, to, _ := strings.Cut(q, "-")
		for _, v := range vals {
			if (from == "" || v >= from) && (to == "" || v <= to) {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if a.VR == "PN" {
			if wildcard(strings.ToLower(strings.ReplaceAll(q, " ", "")), strings.ToLower(v)) {
				return true
			}
			continue
		}
		if wildcard(q, v) {
			return true
		}
	}
	return false
}

func attrStrings(a jsonAttr) []string {
	var out []string
	for _, v := range a.Value {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case int:
			out = append(out, strconv.Itoa(x))
		case map[string]string:
			out = append(out, x["Alphabetic"])
		}
	}
	return out
}

// wildcard matches v against the DICOM pattern q ("*" any run, "?" one character).
func wildcard(q, v string) bool {
	if !strings.ContainsAny(q, "*?") {
		return q == v
	}
	ok, err := path.Match(strings.NewReplacer("[", "\\[", "]", "\\]", "\\", "\\\\").Replace(q), v)
	return err == nil && ok
}
