package dicomtest

import (
	"os"
	"path/filepath"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
)

// PydicomData is where Debian's python3-pydicom keeps its test files
// (scripts/deps.sh test installs the package).
const PydicomData = "/usr/lib/python3/dist-packages/pydicom/data"

// CorpusFile is one real object of the corpus.
type CorpusFile struct {
	Path  string
	Class string // what it is: modality, IOD, encoding
}

// pydicomCorpus are the test files of python3-pydicom the corpus uses,
// relative to PydicomData, with what each one is.
var pydicomCorpus = []CorpusFile{
	{"test_files/CT_small.dcm", "CT, explicit VR"},
	{"test_files/693_J2KI.dcm", "CT, JPEG 2000"},
	{"test_files/J2K_pixelrep_mismatch.dcm", "CT, JPEG 2000 lossless"},
	{"test_files/dicomdirtests/77654033/CT2/17106", "CT"},
	{"test_files/dicomdirtests/77654033/CT2/17136", "CT"},
	{"test_files/dicomdirtests/98892001/CT2N/6293", "CT"},
	{"test_files/dicomdirtests/98892001/CT5N/2062", "CT"},
	{"test_files/dicomdirtests/TINY_ALPHA/PT000000/ST000000/SE000000/IM000000", "CT"},
	{"test_files/MR_small.dcm", "MR, explicit VR"},
	{"test_files/MR_small_implicit.dcm", "MR, implicit VR"},
	{"test_files/MR_small_RLE.dcm", "MR, RLE"},
	{"test_files/MR_small_jp2klossless.dcm", "MR, JPEG 2000 lossless"},
	{"test_files/MR_small_jpeg_ls_lossless.dcm", "MR, JPEG-LS lossless"},
	{"test_files/MR_small_padded.dcm", "MR, trailing padding"},
	{"test_files/dicomdirtests/98892003/MR1/4919", "MR"},
	{"test_files/dicomdirtests/98892003/MR2/4950", "MR"},
	{"test_files/dicomdirtests/98892003/MR700/4467", "MR"},
	{"test_files/dicomdirtests/77654033/CR1/6154", "CR"},
	{"test_files/dicomdirtests/77654033/CR2/6247", "CR"},
	{"test_files/dicomdirtests/77654033/CR3/6278", "CR"},
	{"charset_files/chrJapMulti.dcm", "CR, Japanese character sets"},
	{"charset_files/chrKoreanMulti.dcm", "CR, Korean character sets"},
	{"test_files/ExplVR_BigEnd.dcm", "US, explicit VR big endian"},
	{"test_files/JPEG2000.dcm", "SC (NM), JPEG 2000"},
	{"test_files/JPEG-lossy.dcm", "SC (NM), JPEG lossy"},
	{"test_files/SC_rgb_jpeg_dcmtk.dcm", "SC, RGB JPEG baseline"},
	{"test_files/SC_rgb_rle_2frame.dcm", "SC, multi-frame RGB RLE"},
	{"test_files/SC_rgb_rle_16bit_2frame.dcm", "SC, multi-frame 16-bit RGB RLE"},
	{"test_files/SC_rgb_small_odd.dcm", "SC, odd-sized RGB"},
	{"test_files/SC_ybr_full_422_uncompressed.dcm", "SC, YBR_FULL_422"},
	{"test_files/image_dfl.dcm", "SC, deflated explicit VR"},
	{"charset_files/chrGerm.dcm", "SC, Latin-1"},
	{"charset_files/chrRuss.dcm", "SC, Cyrillic"},
	{"charset_files/chrH31.dcm", "SC, Japanese"},
	{"test_files/liver_1frame.dcm", "SEG"},
	{"test_files/reportsi.dcm", "SR, basic text"},
	{"test_files/test-SR.dcm", "SR, comprehensive"},
	{"test_files/rtdose.dcm", "RT DOSE, multi-frame"},
	{"test_files/rtdose_1frame.dcm", "RT DOSE"},
	{"test_files/rtplan.dcm", "RT PLAN"},
	{"test_files/waveform_ecg.dcm", "ECG waveform"},
}

// moduleCorpus are the sample files of the suyashkumar/dicom module
// (rd.SampleDir), real anonymized TCIA objects.
var moduleCorpus = []CorpusFile{
	{"1.dcm", "PET, nested sequences, icon image"},
	{"2.dcm", "PET"},
	{"3.dcm", "MR"},
	{"4.dcm", "CR (chest X-ray)"},
	{"5.dcm", "enhanced CT, multi-frame, functional groups"},
	{"6.dcm", "OT, deflated explicit VR"},
}

// Corpus is a set of real objects of many classes (CT, MR, PET, CR, US,
// SC, SEG, SR, RT DOSE/PLAN/STRUCT, enhanced CT, multi-frame, waveform)
// from the test files Debian's python3-pydicom ships and the samples of
// the suyashkumar/dicom module. It fails the test when they are missing.
func Corpus(t testing.TB) []CorpusFile {
	t.Helper()
	if _, err := os.Stat(filepath.Join(PydicomData, "test_files")); err != nil {
		t.Fatalf("pydicom's test files are missing (Debian package python3-pydicom; run scripts/deps.sh test): %v", err)
	}
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	var out []CorpusFile
	for _, f := range pydicomCorpus {
		out = append(out, CorpusFile{filepath.Join(PydicomData, f.Path), f.Class})
	}
	for _, f := range moduleCorpus {
		out = append(out, CorpusFile{filepath.Join(dir, f.Path), f.Class})
	}
	for _, f := range out {
		if _, err := os.Stat(f.Path); err != nil {
			t.Fatalf("corpus file missing: %v", err)
		}
	}
	return out
}
