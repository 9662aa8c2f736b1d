// Package dicomzip streams a download of DICOM files as a ZIP laid out like
// an image CD: DICOM/Sxxxx/Ixxxx files, a DICOMDIR at the root (PS3.10
// media directory) and a README.txt in the patient's language. With
// Options.Anonymize every file is de-identified (package deid) with one
// UIDMap for the whole download, and the DICOMDIR carries the de-identified
// values. Memory stays constant in the number of files: files are streamed
// one after the other (an anonymized file is parsed, rewritten and dropped
// before the next is opened); only the small DICOMDIR keys of each file are
// kept until the DICOMDIR is written, last.
package dicomzip

import (
	"archive/zip"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/radpass/radpass/shared/dicom/deid"
	"github.com/radpass/radpass/shared/dicom/dicomdir"
	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/shared/storage"
	"github.com/radpass/radpass/shared/store"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Item is one stored DICOM instance and the keys its DICOMDIR records need
// (used as is for plain downloads; anonymized downloads take the keys from
// the de-identified file instead). StoreItem fills it from the store models.
type Item struct {
	// Open opens the stored file and returns its size in bytes. For
	// anonymized downloads the reader must also be an io.ReaderAt (as
	// storage.Blob is): the file's element lengths are checked before it
	// is parsed.
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

// StoreItem fills an Item from the store models (st.Patient should be
// loaded, e.g. with Relation("Patient")) and opens the file from blobs.
func StoreItem(st *store.Study, se *store.Series, in *store.Instance, blobs storage.Store) Item {
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

// ErrShortFile is returned when a stored file has fewer bytes than its size.
var ErrShortFile = errors.New("dicomzip: stored file is shorter than its size")

// Write streams the ZIP of items to w. On error the archive is incomplete
// (the caller has usually sent headers already and can only abort).
func Write(ctx context.Context, w io.Writer, items []Item, opt Options) error {
	if opt.Anonymize && opt.Number == "" {
		return errors.New("dicomzip: Anonymize needs the pseudonym Number")
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC()
	}
	paths, err := Paths(items)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	// BestSpeed: default-level deflate runs at a few MB/s on pixel data.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	var uids *deid.UIDMap
	if opt.Anonymize {
		uids = deid.NewUIDMap()
	}
	method := zip.Store
	if opt.Deflate {
		method = zip.Deflate
	}
	records := make([]dicomdir.Instance, 0, len(items))
	skipped := 0
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := writeFile(ctx, zw, it, paths[i], method, opt, uids)
		if errors.Is(err, deid.ErrBurnedIn) {
			skipped++
			if opt.OnSkip != nil {
				opt.OnSkip(it, err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("dicomzip: %s (%s): %w", strings.Join(paths[i], "/"), it.SOPInstanceUID, err)
		}
		records = append(records, rec)
	}
	dw, err := zw.CreateHeader(&zip.FileHeader{Name: DicomdirName, Method: zip.Deflate, Modified: opt.Now})
	if err != nil {
		return err
	}
	dopt := dicomdir.Options{Now: opt.Now, NewUID: deid.NewUID}
	if err := dicomdir.Write(dw, records, dopt); err != nil {
		return err
	}
	rw, err := zw.CreateHeader(&zip.FileHeader{Name: ReadmeName, Method: zip.Deflate, Modified: opt.Now})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(rw, Readme(opt.Lang, len(records), skipped, opt)); err != nil {
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

func writeFile(ctx context.Context, zw *zip.Writer, it Item, path []string, method uint16, opt Options, uids *deid.UIDMap) (dicomdir.Instance, error) {
	rec := dicomdir.Instance{FileID: path}
	if it.Open == nil {
		return rec, errors.New("no Open function")
	}
	rc, size, err := it.Open(ctx)
	if err != nil {
		return rec, err
	}
	defer rc.Close()
	hdr := &zip.FileHeader{Name: strings.Join(path, "/"), Method: method, Modified: opt.Now}
	if !opt.Anonymize {
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return rec, err
		}
		n, err := io.Copy(fw, storage.ContextReader(ctx, io.LimitReader(rc, size)))
		if err != nil {
			return rec, err
		}
		if n != size {
			return rec, ErrShortFile
		}
		rec.PatientID = it.PatientID
		rec.PatientName = it.PatientName
		rec.StudyUID = it.StudyUID
		if it.StudyDate != nil {
			rec.StudyDate = it.StudyDate.Format("20060102")
		}
		rec.StudyTime = it.StudyTime
		rec.StudyDescription = it.StudyDescription
		rec.Accession = it.Accession
		rec.SeriesUID = it.SeriesUID
		rec.Modality = it.Modality
		rec.SeriesNumber = itoa(it.SeriesNumber)
		rec.SOPInstanceUID = it.SOPInstanceUID
		rec.SOPClassUID = it.SOPClassUID
		rec.TransferSyntax = it.TransferSyntax
		rec.InstanceNumber = itoa(it.InstanceNumber)
		return rec, nil
	}
	// Parse and de-identify before the entry exists, so a file that cannot
	// be de-identified never leaves a partial (or raw) entry behind.
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		return rec, errors.New("an anonymized download needs files opened as io.ReaderAt (storage.Blob is one)")
	}
	ds, err := deid.ReadAt(ctxReaderAt{ctx, ra}, size)
	if err != nil {
		return rec, err
	}
	if deid.BurnedIn(ds) {
		return rec, deid.ErrBurnedIn
	}
	if err := deid.Apply(ds, deid.Options{PatientName: deid.PseudonymName(opt.Number), PatientID: opt.Number, UIDs: uids}); err != nil {
		return rec, err
	}
	fw, err := zw.CreateHeader(hdr)
	if err != nil {
		return rec, err
	}
	if err := deid.Write(fw, ds); err != nil {
		return rec, err
	}
	s := func(t tag.Tag) string { return deid.String(ds, t) }
	rec.PatientID = s(tag.PatientID)
	rec.PatientName = s(tag.PatientName)
	rec.StudyUID = s(tag.StudyInstanceUID)
	rec.StudyDate = s(tag.StudyDate)
	rec.StudyTime = s(tag.StudyTime)
	rec.StudyDescription = s(tag.StudyDescription)
	rec.Accession = s(tag.AccessionNumber)
	rec.SeriesUID = s(tag.SeriesInstanceUID)
	rec.Modality = s(tag.Modality)
	rec.SeriesNumber = s(tag.SeriesNumber)
	rec.SOPInstanceUID = s(tag.SOPInstanceUID)
	rec.SOPClassUID = s(tag.SOPClassUID)
	rec.TransferSyntax = s(tag.TransferSyntaxUID)
	rec.InstanceNumber = s(tag.InstanceNumber)
	return rec, nil
}

// orUnknown is n for the read-me, "?" when the file has none.
func orUnknown(n *int) string {
	if n == nil {
		return "?"
	}
	return strconv.Itoa(*n)
}

func itoa(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

// Readme is the README.txt of a download of n files, skipped left out
// (CRLF line ends, so every text editor shows it).
func Readme(lang string, n, skipped int, opt Options) string {
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
	parts = append(parts, t("download.readme.diagnosis"), t("download.readme.privacy"))
	return strings.Join(parts, "\r\n\r\n") + "\r\n"
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
