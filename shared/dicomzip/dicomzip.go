// Package dicomzip streams a download of DICOM files as a ZIP laid out like
// an image CD: DICOM/Sxxxx/Ixxxx files, a DICOMDIR at the root (PS3.10
// media directory) and a README.txt in the patient's language. With
// Options.Anonymize every file is de-identified (package deid) with one
// UIDMap for the whole download, and the DICOMDIR carries the de-identified
// values. Files in implicit VR, without file meta or with attributes stored
// as UN are converted to explicit VR little endian on the way (transcode.go),
// as the General Purpose CD-R profile wants them. Every file's header is
// read and checked before the first byte is sent (Write). Memory stays
// constant in the number of files: files are streamed one after the other
// (an anonymized file is parsed, rewritten and dropped before the next is
// opened); only the small DICOMDIR keys of each file are kept.
package dicomzip

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/radpass/radpass/shared/database"
	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/dicom/dicomdir"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/storage"
	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Item is one stored DICOM instance. Write takes the DICOMDIR's keys from
// each file as written, not from the Item's copies of them (kept for
// callers: OnSkip, logs). StoreItem fills it from the database models.
type Item struct {
	// Open opens the stored file and returns its size in bytes. The reader
	// must also be an io.ReaderAt (as storage.Blob is): headers are read
	// and element lengths checked before anything is parsed or sent. Write
	// opens each file twice (to plan, to write).
	Open func(ctx context.Context) (io.ReadCloser, int64, error)

	PatientID   string
	PatientName string // DICOM PN form: FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX

	StudyUID         string
	StudyDate        *time.Time
	StudyTime        string // TM as stored, e.g. 142501 or 142501.123
	StudyDescription string
	Accession        string

	SeriesUID    string
	Modality     string
	SeriesNumber *int

	SOPInstanceUID string
	SOPClassUID    string
	TransferSyntax string
	InstanceNumber *int
}

// StoreItem fills an Item from the database models (st.Patient should be
// loaded, e.g. with Relation("Patient")) and opens the file from blobs.
func StoreItem(st *database.Study, se *database.Series, in *database.Instance, blobs storage.Store) Item {
	it := Item{
		StudyUID:         st.StudyUID,
		StudyDate:        st.StudyDate,
		StudyTime:        st.StudyTime,
		StudyDescription: st.Description,
		Accession:        st.Accession,
		SeriesUID:        se.SeriesUID,
		Modality:         se.Modality,
		SeriesNumber:     se.Number,
		SOPInstanceUID:   in.SOPUID,
		SOPClassUID:      in.SOPClassUID,
		TransferSyntax:   in.TransferSyntax,
		InstanceNumber:   in.Number,
	}
	if p := st.Patient; p != nil {
		it.PatientID = p.PatientID
		it.PatientName = PersonName(p.FamilyName, p.GivenName, p.MiddleName, p.NamePrefix, p.NameSuffix)
	}
	key := in.StorageKey
	it.Open = func(ctx context.Context) (io.ReadCloser, int64, error) {
		b, err := blobs.Open(ctx, key)
		if err != nil {
			return nil, 0, err
		}
		return b, b.Size(), nil
	}
	return it
}

// PersonName joins name components into a DICOM PN value (trailing empty
// components dropped).
func PersonName(family, given, middle, prefix, suffix string) string {
	return strings.TrimRight(strings.Join([]string{family, given, middle, prefix, suffix}, "^"), "^")
}

// Options of one download.
type Options struct {
	// Anonymize de-identifies every file (PS3.15 Annex E basic profile).
	Anonymize bool
	// Number is the bucket's 6-digit pseudonym: Patient's Name becomes
	// Anonymous^<Number> and Patient ID <Number>. Required with Anonymize.
	Number string
	// Lang is the README's language (en, nl, fr, de; others fall back to en).
	Lang string
	// Now dates the DICOMDIR's invented study dates (files without one,
	// as every anonymized file); default time.Now().UTC().
	Now time.Time
	// Deflate compresses the DICOM files too, at BestSpeed (default:
	// stored; pixel data compresses about 2:1 at a tenth of the speed).
	Deflate bool
	// OnSkip, when set, hears of each file left out of an anonymized
	// download (deid.ErrBurnedIn: pixels with burned-in annotation).
	OnSkip func(it Item, reason error)
	// UIDKey, when set, keys the replacement UIDs (deid.NewKeyedUIDMap):
	// every download of the access, and its DICOMweb answers, name each
	// study, series and instance the same. Empty: new UIDs per download.
	UIDKey []byte
	// LeftOut are items the caller left out of items (an anonymized
	// bucket's images whose pixels may show the patient's name, see
	// buckets.LeftOut): never opened, only counted and named in the read-me
	// by modality, series number and instance number.
	LeftOut []Item
}

// Names of the fixed entries.
const (
	DicomdirName = "DICOMDIR"
	ReadmeName   = "README.txt"
	Folder       = "DICOM"
)

// ErrShortFile: a stored file has fewer bytes than its size.
var ErrShortFile = errors.New("dicomzip: stored file is shorter than its size")

// ErrUnreadable marks a file left out because it cannot be read, converted
// or described in the DICOMDIR (OnSkip hears it wrapped with the cause).
var ErrUnreadable = errors.New("dicomzip: file left out: it cannot be read or described")

// How a file goes into the archive.
const (
	asIs      = iota // the stored bytes
	convert          // transcoded to explicit VR little endian
	anonymize        // de-identified (and converted), via the library
)

// planned is what Write decided about one item before the first byte.
type planned struct {
	path []string
	rec  dicomdir.Instance
	how  int
	skip error
	sop  [2]string // SOP class and instance UIDs, for a file meta group that lacks them
	// unopened: Open failed (the storage, not the file).
	unopened bool
}

// ErrStorage: no file of the download could be opened (the storage is
// failing, not the files): an error, not an archive of read-me lines.
var ErrStorage = errors.New("dicomzip: no file of the download could be opened")

// Download is a download decided by Prepare, ready to be written.
type Download struct {
	items              []Item
	plans              []planned
	dir                []byte // the DICOMDIR
	files              int
	burned, unreadable int
	opt                Options
	uids               *deid.UIDMap
}

// Write streams the ZIP of items to w: Prepare, then Download.Write.
func Write(ctx context.Context, w io.Writer, items []Item, opt Options) error {
	d, err := Prepare(ctx, items, opt)
	if err != nil {
		return err
	}
	return d.Write(ctx, w)
}

// Prepare decides everything that can be decided before the first byte:
// each file's header is read (and de-identified), its DICOMDIR records and
// its conversion are checked, and a file that fails is left out with a
// line in the read-me (OnSkip hears of it); the DICOMDIR is built. An
// error here (a cancelled ctx, ErrStorage) comes before anything is sent,
// so a handler that calls Prepare before answering can answer it.
func Prepare(ctx context.Context, items []Item, opt Options) (*Download, error) {
	if opt.Anonymize && opt.Number == "" {
		return nil, errors.New("dicomzip: Anonymize needs the pseudonym Number")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	paths, err := Paths(items)
	if err != nil {
		return nil, err
	}
	d := &Download{items: items, plans: make([]planned, len(items)), opt: opt}
	if opt.Anonymize {
		d.uids = deid.NewUIDMap()
		if opt.UIDKey != nil {
			d.uids = deid.NewKeyedUIDMap(opt.UIDKey)
		}
	}
	records := make([]dicomdir.Instance, 0, len(items))
	opened := 0
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := plan(ctx, it, paths[i], opt, d.uids)
		if err != nil {
			return nil, fmt.Errorf("dicomzip: %s (%s): %w", strings.Join(paths[i], "/"), it.SOPInstanceUID, err)
		}
		if !p.unopened {
			opened++
		}
		d.plans[i] = p
		if p.skip != nil {
			if errors.Is(p.skip, deid.ErrBurnedIn) {
				d.burned++
			} else {
				d.unreadable++
			}
			if opt.OnSkip != nil {
				opt.OnSkip(it, p.skip)
			}
			continue
		}
		records = append(records, p.rec)
	}
	if opened == 0 && len(items) > 0 {
		return nil, ErrStorage
	}
	var dir bytes.Buffer
	if err := dicomdir.Write(&dir, records, dicomdir.Options{Now: opt.Now, NewUID: deid.NewUID}); err != nil {
		return nil, err
	}
	d.dir, d.files = dir.Bytes(), len(records)
	return d, nil
}

// Write streams the prepared download to w. Only an error of the storage
// or of w, or a cancelled ctx, leaves the archive incomplete (the caller
// has usually sent headers already and can only abort). Write once.
func (d *Download) Write(ctx context.Context, w io.Writer) error {
	opt := d.opt
	zw := zip.NewWriter(w)
	// BestSpeed: default-level deflate runs at a few MB/s on pixel data.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	method := zip.Store
	if opt.Deflate {
		method = zip.Deflate
	}
	for i, it := range d.items {
		p := d.plans[i]
		if p.skip != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeFile(ctx, zw, it, p, method, opt, d.uids); err != nil {
			return fmt.Errorf("dicomzip: %s (%s): %w", strings.Join(p.path, "/"), it.SOPInstanceUID, err)
		}
	}
	dw, err := zw.CreateHeader(&zip.FileHeader{Name: DicomdirName, Method: zip.Deflate, Modified: opt.Now})
	if err != nil {
		return err
	}
	if _, err := dw.Write(d.dir); err != nil {
		return err
	}
	rw, err := zw.CreateHeader(&zip.FileHeader{Name: ReadmeName, Method: zip.Deflate, Modified: opt.Now})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(rw, readme(opt.Lang, d.files, d.burned, d.unreadable, opt)); err != nil {
		return err
	}
	return zw.Close()
}

// Paths gives each item its file ID: DICOM/Sxxxx/Ixxxx, series numbered in
// order of first appearance over the whole download, instances within
// their series.
func Paths(items []Item) ([][]string, error) {
	series := map[string]int{}
	count := map[string]int{}
	out := make([][]string, len(items))
	for i, it := range items {
		if it.SeriesUID == "" {
			return nil, fmt.Errorf("dicomzip: item %d has no series UID", i)
		}
		s, ok := series[it.SeriesUID]
		if !ok {
			s = len(series) + 1
			series[it.SeriesUID] = s
		}
		count[it.SeriesUID]++
		if s > 9999999 || count[it.SeriesUID] > 9999999 {
			return nil, errors.New("dicomzip: too many files")
		}
		out[i] = []string{Folder, component("S", s), component("I", count[it.SeriesUID])}
	}
	return out, nil
}

// component is prefix + at least 4 digits (at most 8 characters in all).
func component(prefix string, n int) string {
	return fmt.Sprintf("%s%04d", prefix, n)
}

// plan reads one file's header and decides how it goes into the archive
// and what its DICOMDIR records say (from the file as written: the
// de-identified and converted data set). A file that fails is marked
// skipped; the error returned is one no file can fix (a cancelled ctx, an
// Open that does not give an io.ReaderAt).
func plan(ctx context.Context, it Item, path []string, opt Options, uids *deid.UIDMap) (planned, error) {
	p := planned{path: path}
	skip := func(err error) (planned, error) {
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		p.skip = fmt.Errorf("%w: %w", ErrUnreadable, err)
		return p, nil
	}
	if it.Open == nil {
		return p, errors.New("no Open function")
	}
	rc, size, err := it.Open(ctx)
	if err != nil {
		p.unopened = true
		return skip(err)
	}
	defer rc.Close()
	raw, ok := rc.(io.ReaderAt)
	if !ok {
		return p, errors.New("files must be opened as io.ReaderAt (storage.Blob is one)")
	}
	ra := ctxReaderAt{ctx, raw}
	var last [1]byte
	if size < 132 {
		return skip(rd.ErrNotDICOM)
	}
	if _, err := ra.ReadAt(last[:], size-1); err != nil {
		return skip(ErrShortFile)
	}
	ds, resolved, err := rd.ReadHeader(ra, size)
	if err != nil {
		return skip(err)
	}
	ts := deid.String(ds, tag.TransferSyntaxUID)
	switch {
	case opt.Anonymize:
		if deid.BurnedIn(ds) {
			p.skip = deid.ErrBurnedIn
			return p, nil
		}
		if err := deid.Apply(ds, deidOptions(opt, uids)); err != nil {
			return skip(err)
		}
		p.how = anonymize
		if ts == implicitVRLittleEndian || ts == deflatedExplicitVRLE { // as writeFile writes it
			setTransferSyntax(ds, explicitVRLittleEndian)
		}
	case ts != deflatedExplicitVRLE && ts != explicitVRBigEndian &&
		(ts == implicitVRLittleEndian || resolved > 0 || !part10(ra, ds)):
		// A file the transcoder cannot walk goes as it is stored.
		p.sop = [2]string{deid.String(ds, tag.SOPClassUID), deid.String(ds, tag.SOPInstanceUID)}
		if transcode(nil, ra, size, true, p.sop) == nil {
			p.how = convert
			if ts == implicitVRLittleEndian {
				setTransferSyntax(ds, explicitVRLittleEndian)
			}
		}
	}
	p.rec, err = dicomdir.FromDataset(ds, path)
	if errors.Is(err, dicomdir.ErrMissingKey) {
		// The file lacks a type 1 key of its record type (an SR without
		// Content Date): it stays, under a PRIVATE record.
		p.rec, err = dicomdir.AsPrivate(p.rec)
	}
	if err != nil {
		return skip(err)
	}
	if p.rec.SOPClassUID == "" {
		return skip(errors.New("no SOP class UID"))
	}
	return p, nil
}

// DeidOptions are the de-identification options of an anonymized download
// with pseudonym number and uids (DICOMweb de-identifies headers with them).
func DeidOptions(number string, uids *deid.UIDMap) deid.Options {
	return deidOptions(Options{Number: number}, uids)
}

func deidOptions(opt Options, uids *deid.UIDMap) deid.Options {
	return deid.Options{PatientName: deid.PseudonymName(opt.Number), PatientID: opt.Number, UIDs: uids}
}

// part10: the stored file has the Part 10 prefix and a file meta group
// naming its SOP class and instance.
func part10(ra io.ReaderAt, ds *dcm.Dataset) bool {
	var magic [4]byte
	if _, err := ra.ReadAt(magic[:], 128); err != nil || string(magic[:]) != "DICM" {
		return false
	}
	return deid.String(ds, tag.MediaStorageSOPClassUID) != "" && deid.String(ds, tag.MediaStorageSOPInstanceUID) != ""
}

// setTransferSyntax sets (0002,0010) of ds.
func setTransferSyntax(ds *dcm.Dataset, ts string) {
	if e, err := ds.FindElementByTag(tag.TransferSyntaxUID); err == nil {
		if v, err := dcm.NewValue([]string{ts}); err == nil {
			e.Value = v
		}
	}
}

// writeFile writes one planned file.
func writeFile(ctx context.Context, zw *zip.Writer, it Item, p planned, method uint16, opt Options, uids *deid.UIDMap) error {
	rc, size, err := it.Open(ctx)
	if err != nil {
		return err
	}
	defer rc.Close()
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		return errors.New("files must be opened as io.ReaderAt")
	}
	hdr := &zip.FileHeader{Name: strings.Join(p.path, "/"), Method: method, Modified: opt.Now}
	switch p.how {
	case asIs:
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		n, err := io.Copy(fw, storage.ContextReader(ctx, io.NewSectionReader(ra, 0, size)))
		if err != nil {
			return err
		}
		if n != size {
			return ErrShortFile
		}
		return nil
	case convert:
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		return transcode(fw, ctxReaderAt{ctx, ra}, size, false, p.sop)
	}
	// Parse and de-identify before the entry exists, so a file that cannot
	// be de-identified never leaves a partial (or raw) entry behind.
	ds, err := Deidentified(ctxReaderAt{ctx, ra}, size, opt.Number, uids)
	if err != nil {
		return err
	}
	fw, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	return deid.Write(fw, ds)
}

// Deidentified is the data set of one stored file as an anonymized
// download writes it (deid.Write it): parsed as plan parses it (lengths
// checked first, UN resolved, file meta completed) with the pixel data kept
// as stored, de-identified with pseudonym number and uids, made explicit VR
// little endian where it was implicit or deflated. deid.ErrBurnedIn: the
// file must be left out. DICOMweb serves an anonymized access with it.
func Deidentified(ra io.ReaderAt, size int64, number string, uids *deid.UIDMap) (*dcm.Dataset, error) {
	ds, tabs, err := rd.ReadFullOffsets(ra, size)
	if err != nil {
		return nil, err
	}
	rd.KeepOffsetTable(ds, tabs)
	if deid.BurnedIn(ds) {
		return nil, deid.ErrBurnedIn
	}
	if err := deid.Apply(ds, deidOptions(Options{Number: number}, uids)); err != nil {
		return nil, err
	}
	switch deid.String(ds, tag.TransferSyntaxUID) {
	case implicitVRLittleEndian:
		setTransferSyntax(ds, explicitVRLittleEndian)
		explicitPixelVR(ds)
		if err := fitLengths(ds.Elements); err != nil {
			return nil, err
		}
	case deflatedExplicitVRLE: // the library reads deflate, writes it not
		setTransferSyntax(ds, explicitVRLittleEndian)
	}
	if err := completeMeta(ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// completeMeta adds the file meta elements PS3.10 7.1 requires that a
// file stored without them lacks (Media Storage SOP Class and Instance
// UIDs from the data set, RadPass as the implementation).
func completeMeta(ds *dcm.Dataset) error {
	for _, m := range []struct {
		tg  tag.Tag
		val []string
	}{
		{tag.MediaStorageSOPClassUID, []string{deid.String(ds, tag.SOPClassUID)}},
		{tag.MediaStorageSOPInstanceUID, []string{deid.String(ds, tag.SOPInstanceUID)}},
		{tag.ImplementationClassUID, []string{dicomdir.ImplementationClassUID}},
	} {
		if _, err := ds.FindElementByTag(m.tg); err == nil {
			continue
		}
		e, err := dcm.NewElement(m.tg, m.val)
		if err != nil {
			return err
		}
		at := len(ds.Elements)
		for i, x := range ds.Elements {
			if x.Tag.Compare(m.tg) > 0 {
				at = i
				break
			}
		}
		ds.Elements = slices.Insert(ds.Elements, at, e)
	}
	return nil
}

// fitLengths gives a value read from implicit VR that is too long for its
// VR's 16-bit length in explicit VR (a LUT Data of 65536 entries read as
// US) a VR with a 32-bit length: OW where the dictionary allows it, else
// UN (PS3.5 6.2.2), at any depth.
func fitLengths(els []*dcm.Element) error {
	for _, e := range els {
		if e == nil || e.Value == nil {
			continue
		}
		switch v := e.Value.GetValue().(type) {
		case []*dcm.SequenceItemValue:
			for _, it := range v {
				if err := fitLengths(it.GetValue().([]*dcm.Element)); err != nil {
					return err
				}
			}
			continue
		}
		if longVR(e.RawValueRepresentation) {
			continue
		}
		var raw []byte
		switch v := e.Value.GetValue().(type) {
		case []int:
			size := 2
			switch e.RawValueRepresentation {
			case "UL", "SL", "AT":
				size = 4
			}
			if len(v)*size <= 0xFFFF {
				continue
			}
			for _, x := range v {
				if size == 2 {
					raw = binary.LittleEndian.AppendUint16(raw, uint16(x))
				} else {
					raw = binary.LittleEndian.AppendUint32(raw, uint32(x))
				}
			}
		case []string:
			s := strings.Join(v, `\`)
			if len(s) <= 0xFFFE {
				continue
			}
			raw = []byte(s)
			if len(raw)%2 == 1 {
				raw = append(raw, ' ')
			}
		case []float64:
			size := 4
			if e.RawValueRepresentation == "FD" {
				size = 8
			}
			if len(v)*size <= 0xFFFF {
				continue
			}
			for _, x := range v {
				if size == 4 {
					raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(x)))
				} else {
					raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(x))
				}
			}
		default:
			continue
		}
		nv, err := dcm.NewValue(raw)
		if err != nil {
			return err
		}
		vr := "UN"
		if info, err := tag.Find(e.Tag); err == nil && slices.Contains(info.VRs, "OW") && len(raw)%2 == 0 {
			vr = "OW"
		}
		e.Value, e.RawValueRepresentation, e.ValueLength = nv, vr, uint32(len(raw))
	}
	return nil
}

// explicitPixelVR gives native pixel data read from implicit VR its VR
// for explicit VR: OW, or OB for 8-bit samples (PS3.5 A.2).
func explicitPixelVR(ds *dcm.Dataset) {
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		return
	}
	e.RawValueRepresentation = "OW"
	if b, err := ds.FindElementByTag(tag.BitsAllocated); err == nil {
		if v, ok := b.Value.GetValue().([]int); ok && len(v) > 0 && v[0] <= 8 {
			e.RawValueRepresentation = "OB"
		}
	}
}

// Readme is the README.txt of a download of n files, skipped left out for
// burned-in annotation (CRLF line ends, so every text editor shows it).
func Readme(lang string, n, skipped int, opt Options) string {
	return readme(lang, n, skipped, 0, opt)
}

// readme is Readme with the files left out because they could not be read.
func readme(lang string, n, skipped, unreadable int, opt Options) string {
	t := i18n.For(lang)
	parts := []string{
		t("download.readme.title"),
		t("download.readme.contents", "Files", n),
		t("download.readme.dicomdir"),
	}
	if opt.Anonymize {
		parts = append(parts, t("download.readme.anonymized", "Number", opt.Number))
	}
	if skipped += len(opt.LeftOut); skipped > 0 {
		parts = append(parts, t("download.readme.skipped", "Skipped", skipped))
	}
	if len(opt.LeftOut) > 0 {
		lines := make([]string, len(opt.LeftOut))
		for i, it := range opt.LeftOut {
			lines[i] = "- " + t("anonview.readme.leftout", "Modality", it.Modality, "Series", orUnknown(it.SeriesNumber), "Instance", orUnknown(it.InstanceNumber))
		}
		parts = append(parts, strings.Join(lines, "\r\n"))
	}
	if unreadable > 0 {
		parts = append(parts, t("download.readme.unreadable", "Count", unreadable))
	}
	parts = append(parts, t("download.readme.diagnosis"), t("download.readme.privacy"))
	return strings.Join(parts, "\r\n\r\n") + "\r\n"
}

// orUnknown is n for the read-me, "?" when the file has none.
func orUnknown(n *int) string {
	if n == nil {
		return "?"
	}
	return strconv.Itoa(*n)
}

type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}
