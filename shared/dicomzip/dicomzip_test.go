package dicomzip_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/database"
	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/dicomzip"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

var now = time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)

// fixture is one stored file with the metadata intake would have saved.
type fixture struct {
	name string
	data []byte
	meta *rd.Meta
}

func (f fixture) item() dicomzip.Item {
	m := f.meta
	data := f.data
	return dicomzip.Item{
		Open: func(context.Context) (io.ReadCloser, int64, error) {
			return blob{bytes.NewReader(data)}, int64(len(data)), nil
		},
		PatientID:   m.PatientID,
		PatientName: dicomzip.PersonName(m.PatientName.Family, m.PatientName.Given, m.PatientName.Middle, m.PatientName.Prefix, m.PatientName.Suffix),
		StudyUID:    m.StudyUID, StudyDate: m.StudyDate, StudyTime: m.StudyTime,
		StudyDescription: m.StudyDescription, Accession: m.Accession,
		SeriesUID: m.SeriesUID, Modality: m.Modality, SeriesNumber: m.SeriesNumber,
		SOPInstanceUID: m.SOPInstanceUID, SOPClassUID: m.SOPClassUID, TransferSyntax: m.TransferSyntax,
		InstanceNumber: m.InstanceNumber,
	}
}

func readMeta(t testing.TB, name string, b []byte) fixture {
	t.Helper()
	m, err := rd.ReadMeta(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return fixture{name: name, data: b, meta: m}
}

// fixtures: the six real samples plus a synthetic study of two series with
// three instances each (so files share studies and series).
func fixtures(t testing.TB) []fixture {
	t.Helper()
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	var fs []fixture
	for _, n := range rd.SampleFiles {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, readMeta(t, n, b))
	}
	for s := 1; s <= 2; s++ {
		for i := 1; i <= 3; i++ {
			b, err := rd.Synth{StudyUID: "1.2.826.0.1.3680043.9.77", SeriesUID: fmt.Sprintf("1.2.826.0.1.3680043.9.77.%d", s),
				SOPUID: fmt.Sprintf("1.2.826.0.1.3680043.9.77.%d.%d", s, i), PatientID: "SYN-4455667", PatientName: "Peeters^Marguerite",
				BirthDate: "19390214", Modality: "MR", Rows: 32, Cols: 32, BitsAllocated: 16,
				Pixel: func(f, p, c int) int { return p*s + i }}.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, readMeta(t, fmt.Sprintf("syn%d.%d", s, i), b))
		}
	}
	return fs
}

func build(t *testing.T, fs []fixture, opt dicomzip.Options) (*zip.Reader, []byte) {
	t.Helper()
	items := make([]dicomzip.Item, len(fs))
	for i, f := range fs {
		items[i] = f.item()
	}
	var buf bytes.Buffer
	opt.Now = now
	if err := dicomzip.Write(context.Background(), &buf, items, opt); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr, buf.Bytes()
}

func entries(t *testing.T, zr *zip.Reader) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}

func str(ds *dcm.Dataset, tg tag.Tag) string {
	e, err := ds.FindElementByTag(tg)
	if err != nil {
		return ""
	}
	v, _ := e.Value.GetValue().([]string)
	return strings.Join(v, `\`)
}

// record is one IMAGE record of the DICOMDIR with its parents' keys.
type record struct {
	file                               string
	patientID, patientName             string
	study, studyDate, series, modality string
	studyTime, studyID                 string
	sopClass, sop, ts                  string
}

// dicomdirRecords reads the DICOMDIR back with the library (records in
// file order: depth first) and flattens it to one row per image.
func dicomdirRecords(t *testing.T, b []byte) []record {
	t.Helper()
	ds, err := dcm.Parse(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatalf("DICOMDIR: %v", err)
	}
	if c := str(&ds, tag.MediaStorageSOPClassUID); c != "1.2.840.10008.1.3.10" {
		t.Errorf("DICOMDIR SOP class %q", c)
	}
	seq, err := ds.FindElementByTag(tag.DirectoryRecordSequence)
	if err != nil {
		t.Fatal(err)
	}
	var out []record
	var cur record
	for _, it := range seq.Value.GetValue().([]*dcm.SequenceItemValue) {
		d := dcm.Dataset{Elements: it.GetValue().([]*dcm.Element)}
		switch str(&d, tag.DirectoryRecordType) {
		case "PATIENT":
			cur.patientID, cur.patientName = str(&d, tag.PatientID), str(&d, tag.PatientName)
		case "STUDY":
			cur.study, cur.studyDate = str(&d, tag.StudyInstanceUID), str(&d, tag.StudyDate)
			cur.studyTime, cur.studyID = str(&d, tag.StudyTime), str(&d, tag.StudyID)
		case "SERIES":
			cur.series, cur.modality = str(&d, tag.SeriesInstanceUID), str(&d, tag.Modality)
		case "IMAGE", "RT DOSE", "RT PLAN", "RT STRUCTURE SET", "SR DOCUMENT", "WAVEFORM", "PRIVATE":
			r := cur
			r.file = strings.ReplaceAll(str(&d, tag.ReferencedFileID), `\`, "/")
			r.sopClass = str(&d, tag.ReferencedSOPClassUIDInFile)
			r.sop = str(&d, tag.ReferencedSOPInstanceUIDInFile)
			r.ts = str(&d, tag.ReferencedTransferSyntaxUIDInFile)
			out = append(out, r)
		default:
			t.Errorf("record type %q", str(&d, tag.DirectoryRecordType))
		}
	}
	return out
}

// checkAgainstFiles: every record names a file of the zip whose own values
// are the record's (as a PACS importing the DICOMDIR expects).
func checkAgainstFiles(t *testing.T, recs []record, files map[string][]byte, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("%d image records, want %d", len(recs), n)
	}
	for _, r := range recs {
		b, ok := files[r.file]
		if !ok {
			t.Errorf("DICOMDIR references %s, not in the zip", r.file)
			continue
		}
		ds, err := dcm.Parse(bytes.NewReader(b), int64(len(b)), nil, dcm.SkipPixelData())
		if err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
		for what, pair := range map[string][2]string{
			"patient ID": {r.patientID, str(&ds, tag.PatientID)},
			"study":      {r.study, str(&ds, tag.StudyInstanceUID)},
			"series":     {r.series, str(&ds, tag.SeriesInstanceUID)},
			"sop":        {r.sop, str(&ds, tag.SOPInstanceUID)},
			"sop class":  {r.sopClass, str(&ds, tag.SOPClassUID)},
			"ts":         {r.ts, str(&ds, tag.TransferSyntaxUID)},
			"modality":   {r.modality, str(&ds, tag.Modality)},
		} {
			if pair[0] != pair[1] && !(what == "patient ID" && pair[0] == "UNKNOWN" && pair[1] == "") {
				t.Errorf("%s: DICOMDIR %s %q, file %q", r.file, what, pair[0], pair[1])
			}
		}
		// Type 1 study keys: the file's own where it has one.
		for what, pair := range map[string][2]string{
			"study date": {r.studyDate, str(&ds, tag.StudyDate)},
			"study time": {r.studyTime, str(&ds, tag.StudyTime)},
			"study ID":   {r.studyID, str(&ds, tag.StudyID)},
		} {
			if pair[1] != "" && pair[0] != strings.TrimSpace(pair[1]) {
				t.Errorf("%s: DICOMDIR %s %q, file %q", r.file, what, pair[0], pair[1])
			}
		}
	}
}

func TestPlainDownloadNoRace(t *testing.T) {
	// NoRace: dicomzip starts no goroutine; this builds and checks whole
	// archives in this one, where the race detector only costs time.
	fs := fixtures(t)
	zr, _ := build(t, fs, dicomzip.Options{Lang: "nl"})
	files := entries(t, zr)
	if len(files) != len(fs)+2 {
		t.Errorf("%d entries, want %d", len(files), len(fs)+2)
	}
	paths, err := dicomzip.Paths(items(fs))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		p := strings.Join(paths[i], "/")
		sameContent(t, p, f, files[p])
	}
	// The synthetic series are numbered after the six samples' series.
	if strings.Join(paths[len(fs)-1], "/") != "DICOM/S0008/I0003" {
		t.Errorf("last path %v", paths[len(fs)-1])
	}
	recs := dicomdirRecords(t, files[dicomzip.DicomdirName])
	checkAgainstFiles(t, recs, files, len(fs))
	for _, r := range recs {
		if r.file == "DICOM/S0008/I0001" && (r.patientName != "Peeters^Marguerite" || r.studyDate != "20260102") {
			t.Errorf("synthetic record %+v", r)
		}
	}
	readme := string(files[dicomzip.ReadmeName])
	if !strings.Contains(readme, "DICOMDIR") || !strings.Contains(readme, fmt.Sprint(len(fs))) || !strings.Contains(readme, "diagnose") {
		t.Errorf("Dutch README:\n%s", readme)
	}
	if strings.Contains(readme, "Anonymous") {
		t.Error("plain README speaks of anonymity")
	}
	// dcmtk invents its own Patient ID for a file without one (sample 6), so
	// its consistency check runs on the files that have one.
	var withID []fixture
	for _, f := range fs {
		if f.meta.PatientID != "" {
			withID = append(withID, f)
		}
	}
	zr2, _ := build(t, withID, dicomzip.Options{})
	defer dcmtk(t, entries(t, zr2))
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "DICOM/") && f.Method != zip.Store {
			t.Errorf("%s method %d", f.Name, f.Method)
		}
	}
}

// sameContent: a plain download's file is the stored file, byte for byte,
// unless the stored file is implicit VR little endian, lacks its file
// meta or stores known attributes as UN: then it is explicit VR little
// endian (or its compressed syntax) with the same elements and values,
// and pixel data bit-exact.
func sameContent(t *testing.T, name string, f fixture, got []byte) {
	t.Helper()
	if bytes.Equal(got, f.data) {
		if f.meta.TransferSyntax == "1.2.840.10008.1.2" {
			t.Errorf("%s (%s): implicit VR file not converted", name, f.name)
		}
		return
	}
	parse := func(b []byte) dcm.Dataset {
		ds, err := rd.ReadFull(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return *ds
	}
	a, b := parse(f.data), parse(got)
	want := f.meta.TransferSyntax
	if want == "1.2.840.10008.1.2" {
		want = "1.2.840.10008.1.2.1"
	}
	if ts := str(&b, tag.TransferSyntaxUID); ts != want {
		t.Errorf("%s (%s): written as %s, want %s", name, f.name, ts, want)
	}
	// Top-level elements (sequences as a whole) compared by value; an
	// element the stored file has as UN of a type the reader leaves as
	// bytes (AT, a sequence) is compared by presence.
	flat := func(ds dcm.Dataset) map[tag.Tag]string {
		out := map[tag.Tag]string{}
		for _, e := range ds.Elements {
			if e.Tag.Group == 2 || e.Tag == tag.PixelData || e.Tag.Element == 0 { // group lengths are left out
				continue
			}
			switch v := e.Value.GetValue().(type) {
			case []byte:
				if e.RawValueRepresentation == "UN" && !tag.IsPrivate(e.Tag.Group) {
					out[e.Tag] = "?"
					continue
				}
				// a private creator read from implicit VR: LO once converted
				out[e.Tag] = fmt.Sprint(strings.Split(strings.TrimRight(string(v), " \x00"), `\`))
			case []*dcm.SequenceItemValue:
				out[e.Tag] = fmt.Sprint(len(v), " items")
			default:
				out[e.Tag] = fmt.Sprint(v)
			}
		}
		return out
	}
	fa, fb := flat(a), flat(b)
	if len(fa) != len(fb) {
		t.Errorf("%s (%s): %d elements, stored file %d", name, f.name, len(fb), len(fa))
	}
	for tg, v := range fa {
		if _, ok := fb[tg]; !ok || fb[tg] != v && v != "?" {
			t.Errorf("%s (%s): %v = %.80s, stored %.80s", name, f.name, tg, fb[tg], v)
		}
	}
	pa, errA := a.FindElementByTag(tag.PixelData)
	pb, errB := b.FindElementByTag(tag.PixelData)
	if (errA == nil) != (errB == nil) {
		t.Fatalf("%s: pixel data present %v, stored %v", name, errB == nil, errA == nil)
	}
	if errA == nil {
		pixels := func(e *dcm.Element) []byte {
			info := e.Value.GetValue().(dcm.PixelDataInfo)
			if len(info.UnprocessedValueData) > 0 {
				return info.UnprocessedValueData
			}
			var all []byte
			for _, fr := range info.Frames {
				all = append(all, fr.EncapsulatedData.Data...)
			}
			return all
		}
		if x, y := pixels(pa), pixels(pb); !bytes.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s (%s): pixel data not bit-exact (%d and %d bytes)", name, f.name, len(y), len(x))
		}
	}
}

func items(fs []fixture) []dicomzip.Item {
	out := make([]dicomzip.Item, len(fs))
	for i, f := range fs {
		out[i] = f.item()
	}
	return out
}

func TestAnonymizedDownloadNoRace(t *testing.T) {
	// NoRace: dicomzip starts no goroutine; this builds and checks whole
	// archives in this one, where the race detector only costs time.
	fs := fixtures(t)
	zr, raw := build(t, fs, dicomzip.Options{Anonymize: true, Number: "482913", Lang: "fr"})
	files := entries(t, zr)
	// Identifying values of the originals.
	var secrets []string
	for _, f := range fs {
		ds, err := dcm.Parse(bytes.NewReader(f.data), int64(len(f.data)), nil, dcm.SkipPixelData())
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range []tag.Tag{tag.PatientName, tag.PatientID, tag.PatientBirthDate, tag.AccessionNumber,
			tag.InstitutionName, tag.ReferringPhysicianName, tag.StudyInstanceUID, tag.SeriesInstanceUID,
			tag.SOPInstanceUID, tag.FrameOfReferenceUID, tag.OtherPatientIDs} {
			if v := strings.TrimSpace(str(&ds, tg)); distinctive(v) && v != "REMOVED" { // a sample's own placeholder
				secrets = append(secrets, v)
			}
		}
	}
	if len(secrets) < 40 {
		t.Fatalf("only %d identifying values found in the fixtures", len(secrets))
	}
	for name, b := range files {
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains %q", name, s)
			}
		}
	}
	// The zip's central directory and headers too (stored entries: raw bytes).
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("zip bytes contain %q", s)
		}
	}
	// Every file: de-identified values, no private tags, one series keeps one UID.
	seriesOf := map[string]string{} // original series -> new
	studyOf := map[string]string{}
	paths, _ := dicomzip.Paths(items(fs))
	for i, f := range fs {
		p := strings.Join(paths[i], "/")
		b := files[p]
		ds, err := dcm.Parse(bytes.NewReader(b), int64(len(b)), nil, dcm.SkipProcessingPixelDataValue())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for tg, want := range map[tag.Tag]string{tag.PatientName: "Anonymous^482913", tag.PatientID: "482913",
			tag.PatientBirthDate: "", tag.AccessionNumber: "", tag.PatientIdentityRemoved: "YES"} {
			if got := str(&ds, tg); got != want {
				t.Errorf("%s %v = %q, want %q", p, tg, got, want)
			}
		}
		for e := range ds.FlatIterator() {
			if tag.IsPrivate(e.Tag.Group) {
				t.Errorf("%s: private tag %v", p, e.Tag)
			}
		}
		if s, ok := seriesOf[f.meta.SeriesUID]; ok && s != str(&ds, tag.SeriesInstanceUID) {
			t.Errorf("%s: series UID not consistent within the series", p)
		}
		seriesOf[f.meta.SeriesUID] = str(&ds, tag.SeriesInstanceUID)
		if s, ok := studyOf[f.meta.StudyUID]; ok && s != str(&ds, tag.StudyInstanceUID) {
			t.Errorf("%s: study UID not consistent within the study", p)
		}
		studyOf[f.meta.StudyUID] = str(&ds, tag.StudyInstanceUID)
		if str(&ds, tag.MediaStorageSOPInstanceUID) != str(&ds, tag.SOPInstanceUID) {
			t.Errorf("%s: meta SOP instance UID does not follow", p)
		}
	}
	if len(seriesOf) != 8 {
		t.Errorf("%d series, want 8", len(seriesOf))
	}
	recs := dicomdirRecords(t, files[dicomzip.DicomdirName])
	checkAgainstFiles(t, recs, files, len(fs))
	for _, r := range recs {
		if r.patientName != "Anonymous^482913" || r.patientID != "482913" {
			t.Errorf("DICOMDIR patient %q %q", r.patientName, r.patientID)
		}
		if r.studyDate != deid.DummyDate || r.studyTime == "" || r.studyID == "" {
			t.Errorf("DICOMDIR study keys %q %q %q: type 1, the date the files' dummy %s", r.studyDate, r.studyTime, r.studyID, deid.DummyDate)
		}
	}
	readme := string(files[dicomzip.ReadmeName])
	if !strings.Contains(readme, "Anonymous 482913") || !strings.Contains(readme, "diagnostic") {
		t.Errorf("French README:\n%s", readme)
	}
	dcmtk(t, files)
}

// dcmtk reads the DICOMDIR, and dcmmkdir in update mode re-reads every
// file of the folder, looks each up in the existing records (by file ID and
// by the patient, study, series and instance keys) and adds a record for
// anything it does not find: our records are complete and consistent when
// it adds none.
func dcmtk(t *testing.T, files map[string][]byte) {
	t.Helper()
	mk := testtool.Path(t, "dcmmkdir")
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	records := func() int {
		out, err := exec.Command("dcmdump", "-q", "+M", filepath.Join(dir, "DICOMDIR")).CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("E: ")) || bytes.Contains(out, []byte("W: ")) {
			t.Errorf("dcmdump DICOMDIR: %v\n%s", err, out)
		}
		return bytes.Count(out, []byte(`"Directory Record" `))
	}
	before := records()
	cmd := exec.Command(mk, "+U", "-nb", "+r", "-Nxc", "-Nec", "+I", "DICOM")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("E: ")) {
		t.Errorf("dcmmkdir +U: %v\n%s", err, out)
	}
	if after := records(); after != before || before == 0 {
		t.Errorf("dcmmkdir +U changed the record count from %d to %d:\n%s", before, after, out)
	}
}

func TestStoreItem(t *testing.T) {
	fsStore, err := storage.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("DICM-ish bytes")
	key, _, _, err := fsStore.Put(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	three, seven := 3, 7
	day := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	st := &database.Study{StudyUID: "1.2", StudyDate: &day, StudyTime: "0930", Description: "CT", Accession: "A1",
		Patient: &database.Patient{PatientID: "P9", FamilyName: "Doe", GivenName: "Jane"}}
	se := &database.Series{SeriesUID: "1.2.3", Modality: "CT", Number: &three}
	in := &database.Instance{SOPUID: "1.2.3.4", SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", Number: &seven,
		TransferSyntax: "1.2.840.10008.1.2.1", StorageKey: key}
	it := dicomzip.StoreItem(st, se, in, fsStore)
	if it.PatientName != "Doe^Jane" || it.PatientID != "P9" || it.SeriesNumber != &three || it.InstanceNumber != &seven ||
		it.StudyUID != "1.2" || it.SeriesUID != "1.2.3" || it.SOPInstanceUID != "1.2.3.4" || it.StudyDate != &day {
		t.Errorf("%+v", it)
	}
	rc, size, err := it.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if size != int64(len(data)) || !bytes.Equal(got, data) {
		t.Errorf("opened %q (%d)", got, size)
	}
}

func TestPersonName(t *testing.T) {
	for _, c := range []struct{ f, g, m, p, s, want string }{
		{"Doe", "Jane", "", "", "", "Doe^Jane"},
		{"Doe", "", "", "Dr", "", "Doe^^^Dr"},
		{"", "", "", "", "", ""},
		{"Doe", "Jane", "Q", "Dr", "Jr", "Doe^Jane^Q^Dr^Jr"},
	} {
		if got := dicomzip.PersonName(c.f, c.g, c.m, c.p, c.s); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}

// A file shorter than its recorded size, a file that cannot be
// de-identified, a cancelled request: errors, and the anonymized download
// never carries the raw bytes of a file it could not de-identify.
func TestErrors(t *testing.T) {
	fs := fixtures(t)
	// A file shorter than its recorded size and a file that is not DICOM:
	// left out before the first byte, said in the read-me, the archive
	// complete; the raw bytes of a file that failed never reach the zip.
	short := fs[0].item()
	short.Open = func(context.Context) (io.ReadCloser, int64, error) {
		return blob{bytes.NewReader(fs[0].data[:100])}, int64(len(fs[0].data)), nil
	}
	broken := fs[0].item()
	junk := append([]byte("SECRET-RAW-BYTES"), make([]byte, 300)...)
	broken.Open = func(context.Context) (io.ReadCloser, int64, error) {
		return blob{bytes.NewReader(junk)}, int64(len(junk)), nil
	}
	for _, anon := range []bool{false, true} {
		var left []error
		var buf bytes.Buffer
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := dicomzip.Write(context.Background(), &buf, []dicomzip.Item{fs[1].item(), short, broken},
			dicomzip.Options{Anonymize: anon, Number: "111111", OnSkip: func(_ dicomzip.Item, err error) { left = append(left, err) }})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("anonymize=%v: %v", anon, err)
		}
		// The library alone allocates over a gigabyte on such input; the length check first keeps it small.
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
			t.Errorf("a broken file of %d bytes cost %d MB of allocation", len(junk), d>>20)
		}
		if len(left) != 2 || !errors.Is(left[0], dicomzip.ErrUnreadable) || !errors.Is(left[1], dicomzip.ErrUnreadable) {
			t.Errorf("anonymize=%v: OnSkip heard %v", anon, left)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("anonymize=%v: not a complete zip: %v", anon, err)
		}
		files := entries(t, zr)
		if len(files) != 3 || !strings.Contains(string(files[dicomzip.ReadmeName]), "Left out: 2 files that could not be read") {
			t.Errorf("anonymize=%v: %d entries, README:\n%s", anon, len(files), files[dicomzip.ReadmeName])
		}
		checkAgainstFiles(t, dicomdirRecords(t, files[dicomzip.DicomdirName]), files, 1)
		if bytes.Contains(buf.Bytes(), []byte("SECRET-RAW-BYTES")) {
			t.Error("raw bytes of a file that could not be read reached the zip")
		}
	}
	stream := fs[1].item()
	stream.Open = func(context.Context) (io.ReadCloser, int64, error) {
		return io.NopCloser(bytes.NewReader(fs[1].data)), int64(len(fs[1].data)), nil
	}
	var sent countWriter
	if err := dicomzip.Write(context.Background(), &sent, []dicomzip.Item{stream}, dicomzip.Options{}); err == nil || sent.n != 0 {
		t.Errorf("a plain stream (its lengths cannot be checked first) accepted: %v, %d bytes sent", err, sent.n)
	}
	if err := dicomzip.Write(context.Background(), io.Discard, items(fs), dicomzip.Options{Anonymize: true}); err == nil {
		t.Error("anonymized download without a pseudonym accepted")
	}
	// No file can be opened: the storage, not the files: an error before
	// the first byte, not a zip of read-me lines.
	down := items(fs[:2])
	for i := range down {
		down[i].Open = func(context.Context) (io.ReadCloser, int64, error) { return nil, 0, errors.New("disk gone") }
	}
	sent = countWriter{}
	if err := dicomzip.Write(context.Background(), &sent, down, dicomzip.Options{}); !errors.Is(err, dicomzip.ErrStorage) || sent.n != 0 {
		t.Errorf("storage down: %v, %d bytes sent", err, sent.n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := dicomzip.Write(ctx, io.Discard, items(fs), dicomzip.Options{}); err == nil {
		t.Error("cancelled download finished")
	}
}

func TestReadmeLanguages(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range []string{"en", "nl", "fr", "de"} {
		r := dicomzip.Readme(l, 12, 0, dicomzip.Options{Anonymize: true, Number: "123456"})
		if sk := dicomzip.Readme(l, 12, 3, dicomzip.Options{Anonymize: true, Number: "123456"}); len(sk) <= len(r) || strings.Count(sk, "3") <= strings.Count(r, "3") {
			t.Errorf("%s: no line about the 3 files left out:\n%s", l, sk)
		}
		if seen[r] || !strings.Contains(r, "12") || !strings.Contains(r, "123456") || !strings.Contains(r, "DICOMDIR") ||
			strings.Contains(r, "download.readme") {
			t.Errorf("%s:\n%s", l, r)
		}
		// De-identification replaces dates by deid's dummy and drops the SR text: the read-me says so.
		if !strings.Contains(r, "1900") || !strings.Contains(r, "SR") {
			t.Errorf("%s: no word on dummy dates or the SR text left out:\n%s", l, r)
		}
		seen[r] = true
	}
}

// Memory stays flat in the number of files: the live heap after 300 files
// of 2 MB is within a few MB of the live heap after the first ones (the
// DICOMDIR keys, a few hundred bytes per file, are all that accumulates).
func TestConstantMemoryNoRace(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	n := 300
	if raceEnabled {
		n = 120 // the race detector makes each parse slow; the slope shows as well
	}
	for _, anon := range []bool{false, true} {
		t.Run(fmt.Sprintf("anonymize=%v", anon), func(t *testing.T) {
			tmpl, err := rd.Synth{StudyUID: "1.2.3", SeriesUID: "1.2.3.4", SOPUID: "1.2.3.4.5", PatientID: "X", PatientName: "Y^Z",
				Rows: 1024, Cols: 1024, BitsAllocated: 16, Pixel: func(f, p, c int) int { return p & 0xfff }}.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			var heap []uint64
			sample := func() {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				heap = append(heap, ms.HeapAlloc)
			}
			its := make([]dicomzip.Item, n)
			for i := range its {
				i := i
				its[i] = dicomzip.Item{
					Open: func(context.Context) (io.ReadCloser, int64, error) {
						sample()
						return blob{bytes.NewReader(tmpl)}, int64(len(tmpl)), nil
					},
					PatientID: "X", StudyUID: "1.2.3", SeriesUID: fmt.Sprintf("1.2.3.%d", i/100), SOPInstanceUID: fmt.Sprintf("1.2.3.4.%d", i),
					SOPClassUID: "1.2.840.10008.5.1.4.1.1.7", TransferSyntax: "1.2.840.10008.1.2.1",
				}
			}
			var cw countWriter
			if err := dicomzip.Write(context.Background(), &cw, its, dicomzip.Options{Anonymize: anon, Number: "123456"}); err != nil {
				t.Fatal(err)
			}
			if cw.n < int64(n*len(tmpl)) {
				t.Fatalf("zip of %d bytes for %d files of %d", cw.n, n, len(tmpl))
			}
			base, last := heap[5], heap[len(heap)-1]
			var peak uint64
			for _, h := range heap {
				peak = max(peak, h)
			}
			t.Logf("%d files, %d MB written; live heap after file 5: %d KB, after the last: %d KB, peak at file boundaries %d KB",
				n, cw.n>>20, base>>10, last>>10, peak>>10)
			if last > base+4<<20 {
				t.Errorf("live heap grew from %d KB to %d KB over %d files", base>>10, last>>10, n)
			}
			// Inside a file (an anonymized one is held a few times while it
			// is rewritten) the heap, garbage included, stays small too.
			t.Logf("peak heap while writing: %d KB", cw.peak>>10)
			if cw.peak > 64<<20 {
				t.Errorf("heap reached %d MB while writing files of %d MB", cw.peak>>20, len(tmpl)>>20)
			}
		})
	}
}

// blob is an in-memory stored file: a ReadCloser and a ReaderAt, as storage.Blob.
type blob struct{ *bytes.Reader }

func (blob) Close() error { return nil }

// countWriter counts the bytes of the zip and samples the heap (garbage
// included) every 64 writes.
type countWriter struct {
	n, writes int64
	peak      uint64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.writes++; c.writes%64 == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		c.peak = max(c.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

// distinctive: a value long enough that finding it in the output is not
// chance. New UIDs are random digits, so a short number (sample 5's patient
// ID is "0010") can occur in them; digit strings need 8 characters.
func distinctive(v string) bool {
	if strings.Trim(v, "0123456789.") == "" {
		return len(v) >= 8
	}
	return len(v) >= 4
}

// An instance with burned-in annotation is left out of an anonymized
// download (the basic profile does not clean pixels), and said so; a plain
// download keeps it.
func TestBurnedInLeftOut(t *testing.T) {
	mk := func(sop string, burned bool) fixture {
		raw, err := rd.Synth{StudyUID: "1.2.9", SeriesUID: "1.2.9.1", SOPUID: sop, PatientID: "BURN-778899", PatientName: "Claes^Ward",
			Modality: "US", Rows: 8, Cols: 8, BitsAllocated: 8, Pixel: func(f, p, c int) int { return p }}.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if burned {
			ds, err := dcm.Parse(bytes.NewReader(raw), int64(len(raw)), nil)
			if err != nil {
				t.Fatal(err)
			}
			e, _ := dcm.NewElement(tag.BurnedInAnnotation, []string{"YES"})
			for i, x := range ds.Elements {
				if x.Tag.Compare(e.Tag) > 0 {
					ds.Elements = append(ds.Elements[:i], append([]*dcm.Element{e}, ds.Elements[i:]...)...)
					break
				}
			}
			var b bytes.Buffer
			if err := dcm.Write(&b, ds, dcm.SkipVRVerification()); err != nil {
				t.Fatal(err)
			}
			raw = b.Bytes()
		}
		return readMeta(t, sop, raw)
	}
	fs := []fixture{mk("1.2.9.1.1", false), mk("1.2.9.1.2", true)}
	var left []string
	zr, _ := build(t, fs, dicomzip.Options{Anonymize: true, Number: "654321", Lang: "en",
		OnSkip: func(it dicomzip.Item, err error) { left = append(left, it.SOPInstanceUID) }})
	files := entries(t, zr)
	if _, ok := files["DICOM/S0001/I0002"]; ok || len(files) != 3 {
		t.Errorf("burned-in file in the anonymized zip: %d entries", len(files))
	}
	if len(left) != 1 || left[0] != "1.2.9.1.2" {
		t.Errorf("OnSkip heard %v", left)
	}
	if !strings.Contains(string(files[dicomzip.ReadmeName]), "Left out: 1 ") {
		t.Errorf("README:\n%s", files[dicomzip.ReadmeName])
	}
	checkAgainstFiles(t, dicomdirRecords(t, files[dicomzip.DicomdirName]), files, 1)
	zr, _ = build(t, fs, dicomzip.Options{})
	if n := len(entries(t, zr)); n != 4 {
		t.Errorf("plain download has %d entries, want 4", n)
	}
}

// An implicit VR file with a LUT Data of 40000 entries (stored as US,
// longer than explicit VR's 16-bit length for US): the anonymized
// download writes it in explicit VR with a 32-bit length, values intact,
// and dcmdump reads the file without error.
func TestAnonymizedLongValue(t *testing.T) {
	raw, err := rd.Synth{StudyUID: "1.2.9.7", SeriesUID: "1.2.9.7.1", SOPUID: "1.2.9.7.1.1", PatientID: "LUT-1", PatientName: "Lut^Long",
		Modality: "CR", Rows: 8, Cols: 8, BitsAllocated: 16, Pixel: func(f, p, c int) int { return p }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dcm.Parse(bytes.NewReader(raw), int64(len(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	lut := make([]int, 40000)
	for i := range lut {
		lut[i] = i % 4096
	}
	item := []*dcm.Element{mustEl(t, tag.LUTDescriptor, []int{0, 0, 16}), mustEl(t, tag.LUTData, lut)}
	seq := mustEl(t, tag.VOILUTSequence, [][]*dcm.Element{item})
	for i, x := range ds.Elements {
		if x.Tag.Compare(seq.Tag) > 0 {
			ds.Elements = append(ds.Elements[:i], append([]*dcm.Element{seq}, ds.Elements[i:]...)...)
			break
		}
	}
	ts, _ := ds.FindElementByTag(tag.TransferSyntaxUID)
	ts.Value, _ = dcm.NewValue([]string{"1.2.840.10008.1.2"})
	var b bytes.Buffer
	if err := dcm.Write(&b, ds, dcm.SkipVRVerification()); err != nil {
		t.Fatal(err)
	}
	f := readMeta(t, "lut", b.Bytes())
	zr, _ := build(t, []fixture{f}, dicomzip.Options{Anonymize: true, Number: "135791"})
	files := entries(t, zr)
	out := files["DICOM/S0001/I0001"]
	got, err := dcm.Parse(bytes.NewReader(out), int64(len(out)), nil)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	if str(&got, tag.TransferSyntaxUID) != "1.2.840.10008.1.2.1" {
		t.Errorf("written as %s", str(&got, tag.TransferSyntaxUID))
	}
	var e *dcm.Element
	for x := range got.FlatIterator() {
		if x.Tag == tag.LUTData {
			e = x
		}
	}
	if e == nil {
		t.Fatal("LUT Data lost")
	}
	v, ok := e.Value.GetValue().([]byte)
	if !ok || len(v) != 80000 || v[2*4097] != 1 || e.RawValueRepresentation != "OW" {
		t.Fatalf("LUT Data %s of %d bytes", e.RawValueRepresentation, len(v))
	}
	p := filepath.Join(t.TempDir(), "lut.dcm")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	testtool.Need(t, "dcmdump")
	if o, err := exec.Command("dcmdump", "-q", p).CombinedOutput(); err != nil || bytes.Contains(o, []byte("E: ")) {
		t.Errorf("dcmdump: %v\n%.2000s", err, o)
	}
}

func mustEl(t *testing.T, tg tag.Tag, v any) *dcm.Element {
	t.Helper()
	e, err := dcm.NewElement(tg, v)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// An implicit VR file with a (retired) group length, a sequence and a
// private sequence of undefined length: the plain download converts it
// to explicit VR little endian that dcmdump reads without complaint, the
// group length left out, elements and pixel data kept.
func TestConvertedImplicit(t *testing.T) {
	raw, err := rd.Synth{StudyUID: "1.2.9.8", SeriesUID: "1.2.9.8.1", SOPUID: "1.2.9.8.1.1", PatientID: "IMP-1", PatientName: "Impl^Icit",
		Modality: "MR", Rows: 16, Cols: 16, BitsAllocated: 16, Pixel: func(f, p, c int) int { return p * 7 }}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dcm.Parse(bytes.NewReader(raw), int64(len(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	add := func(e *dcm.Element) {
		for i, x := range ds.Elements {
			if x.Tag.Compare(e.Tag) > 0 {
				ds.Elements = append(ds.Elements[:i], append([]*dcm.Element{e}, ds.Elements[i:]...)...)
				return
			}
		}
		ds.Elements = append(ds.Elements, e)
	}
	add(&dcm.Element{Tag: tag.Tag{Group: 0x0008, Element: 0x0000}, RawValueRepresentation: "UL", Value: mustValue(t, []int{1234})})
	add(mustEl(t, tag.ReferencedImageSequence, [][]*dcm.Element{{mustEl(t, tag.ReferencedSOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.4"}),
		mustEl(t, tag.ReferencedSOPInstanceUID, []string{"1.2.9.8.1.0"})}}))
	add(&dcm.Element{Tag: tag.Tag{Group: 0x0009, Element: 0x0010}, RawValueRepresentation: "LO", Value: mustValue(t, []string{"ACME 1.0"})})
	add(&dcm.Element{Tag: tag.Tag{Group: 0x0009, Element: 0x1001}, RawValueRepresentation: "SQ", ValueLength: 0xFFFFFFFF,
		Value: mustValue(t, [][]*dcm.Element{{{Tag: tag.Tag{Group: 0x0009, Element: 0x1002}, RawValueRepresentation: "LO",
			Value: mustValue(t, []string{"ACME-SECRET"})}}})})
	ts, _ := ds.FindElementByTag(tag.TransferSyntaxUID)
	ts.Value = mustValue(t, []string{"1.2.840.10008.1.2"})
	var b bytes.Buffer
	if err := dcm.Write(&b, ds, dcm.SkipVRVerification()); err != nil {
		t.Fatal(err)
	}
	f := readMeta(t, "implicit", b.Bytes())
	zr, _ := build(t, []fixture{f}, dicomzip.Options{})
	out := entries(t, zr)["DICOM/S0001/I0001"]
	sameContent(t, "DICOM/S0001/I0001", f, out)
	if bytes.Contains(out, []byte{0x08, 0, 0, 0, 'U', 'L'}) {
		t.Error("group length (0008,0000) kept")
	}
	p := filepath.Join(t.TempDir(), "implicit.dcm")
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	testtool.Need(t, "dcmdump")
	if o, err := exec.Command("dcmdump", "-q", "-E", p).CombinedOutput(); err != nil || bytes.Contains(o, []byte("E: ")) || bytes.Contains(o, []byte("W: ")) {
		t.Errorf("dcmdump: %v\n%.2000s", err, o)
	}
}

func mustValue(t *testing.T, v any) dcm.Value {
	t.Helper()
	x, err := dcm.NewValue(v)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
