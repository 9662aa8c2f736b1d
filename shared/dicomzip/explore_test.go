package dicomzip_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/dicomzip"
)

func TestExplore(t *testing.T) {
	var fs []fixture
	for _, n := range []string{"rtdose.dcm", "rtdose_rle.dcm", "rtplan.dcm", "rtstruct.dcm", "test-SR.dcm", "reportsi.dcm", "waveform_ecg.dcm", "MR_small_implicit.dcm", "CT_small.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm", "liver_1frame.dcm"} {
		b, err := os.ReadFile("/usr/lib/python3/dist-packages/pydicom/data/test_files/" + n)
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, readMeta(t, n, b))
	}
	fs = append(fs, fixtures(t)...)
	for _, anon := range []bool{false, true} {
		_, raw := build(t, fs, dicomzip.Options{Anonymize: anon, Number: "123456", OnSkip: func(it dicomzip.Item, err error) { t.Log("skip", it.SOPInstanceUID, err) }})
		name := "/tmp/dlzips/plain.zip"
		if anon {
			name = "/tmp/dlzips/anon.zip"
		}
		os.MkdirAll(filepath.Dir(name), 0o755)
		os.WriteFile(name, raw, 0o644)
	}
}
