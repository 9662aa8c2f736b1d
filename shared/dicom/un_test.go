package dicom_test

import (
	"bytes"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/radpass/radpass/shared/testkit/dicomtest"
)

// withUNSequence inserts before Patient Name (0010,0010) a private
// sequence and a known one, both written as UN of undefined length with
// implicit VR contents (what a gateway that does not know them produces,
// PS3.5 6.2.2), into an explicit VR little endian file.
func withUNSequence(t testing.TB, b []byte) []byte {
	t.Helper()
	at := bytes.Index(b, []byte{0x10, 0x00, 0x10, 0x00, 'P', 'N'})
	if at < 0 {
		t.Fatal("no patient name")
	}
	un := []byte{
		0x08, 0x00, 0x40, 0x11, 'U', 'N', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, // (0008,1140) Referenced Image Sequence
		0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF,
		0x08, 0x00, 0x50, 0x11, 4, 0, 0, 0, '1', '.', '2', 0, // (0008,1150) implicit VR
		0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0,
		0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0,
		0x09, 0x00, 0x10, 0x00, 'L', 'O', 8, 0, 'P', 'R', 'I', 'V', 'A', 'T', 'E', ' ',
		0x09, 0x00, 0x01, 0x10, 'U', 'N', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, // (0009,1001) private
		0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF,
		0x09, 0x00, 0x02, 0x10, 4, 0, 0, 0, 'A', 'B', 'C', 'D',
		0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0,
		0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0,
	}
	out := append(append(append([]byte{}, b[:at]...), un...), b[at:]...)
	return out
}

func TestUndefinedLengthUN(t *testing.T) {
	k := kinds()[1]
	in, err := k.syn.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"native", withUNSequence(t, in)},
		{"jpeg-lossless", withUNSequence(t, dicomtest.Convert(t, in, "dcmcjpeg", "+e1"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dcmdump(t, tc.b)
			m, err := rd.ReadMeta(bytes.NewReader(tc.b), int64(len(tc.b)))
			if err != nil {
				t.Fatalf("ReadMeta: %v", err)
			}
			if m.PatientID != "P1" {
				t.Fatalf("patient id %q", m.PatientID)
			}
			_, got := decodeAll(t, tc.b)
			if d := maxDiff(t, got[0], want(k.syn, 0)); d != 0 {
				t.Fatalf("pixels differ by %d", d)
			}
		})
	}
}
