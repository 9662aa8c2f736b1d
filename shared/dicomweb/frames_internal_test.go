package dicomweb

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/radpass/radpass/shared/dicom"
)

const (
	tsJPEGLossless = "1.2.840.10008.1.2.4.70"
	tsJ2K          = "1.2.840.10008.1.2.4.90"
	tsRLE          = "1.2.840.10008.1.2.5"
)

// jpegFrame is a structurally valid JPEG codestream whose table segment
// and entropy-coded data contain the bytes of an EOI and an SOI (inside a
// segment, and as a restart marker and stuffed 0xFF in the scan).
func jpegFrame(tag byte) []byte {
	return []byte{0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x06, 0xFF, 0xD9, 0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02,
		tag, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xD9}
}

func j2kFrame(psot uint32) []byte {
	// SOC, SIZ (shortened), SOT (Isot 0, Psot, TPsot 0, TNsot 1), SOD, tile data.
	b := []byte{0xFF, 0x4F, 0xFF, 0x51, 0x00, 0x04, 0x01, 0x02, 0xFF, 0x90, 0x00, 0x0A, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0x93, 0xFF, 0xD9, 0x00, 0x00}
	binary.BigEndian.PutUint32(b[14:], psot)
	return append(b, 0xFF, 0xD9)
}

func TestEncapsulatedFrames(t *testing.T) {
	a, b := jpegFrame(1), jpegFrame(2) // 23 bytes each: padded to 24 in the fragments
	pad := func(f []byte) []byte { return append(append([]byte(nil), f...), 0) }
	j := j2kFrame(18) // SOT at 8, EOC at 26
	for _, tc := range []struct {
		name  string
		frags [][]byte
		tabs  dicom.OffsetTables
		n     int
		ts    string
		want  [][]byte
	}{
		{"single frame: all fragments", [][]byte{a[:10], a[10:]}, dicom.OffsetTables{}, 1, tsJPEGLossless, [][]byte{a}},
		{"basic offset table", [][]byte{[]byte("aaaa"), []byte("bb"), []byte("cc")}, dicom.OffsetTables{Basic: []uint32{0, 22}}, 2, tsRLE,
			[][]byte{[]byte("aaaabb"), []byte("cc")}},
		{"extended offset table, lengths drop the padding", [][]byte{[]byte("aaaa"), []byte("bb"), []byte("cccc"), []byte("d\x00")},
			dicom.OffsetTables{Extended: []uint64{0, 22}, ExtendedLengths: []uint64{6, 5}}, 2, tsRLE, [][]byte{[]byte("aaaabb"), []byte("ccccd")}},
		{"extended lengths past the frame", [][]byte{[]byte("aaaa"), []byte("bb"), []byte("cc")}, dicom.OffsetTables{Extended: []uint64{0, 12}, ExtendedLengths: []uint64{4, 5}}, 2, tsRLE, nil},
		{"offset table off a fragment boundary, counts agree", [][]byte{[]byte("aa"), []byte("bb")}, dicom.OffsetTables{Basic: []uint32{0, 4}}, 2, tsRLE,
			[][]byte{[]byte("aa"), []byte("bb")}},
		{"one fragment per frame", [][]byte{[]byte("aa"), []byte("bb")}, dicom.OffsetTables{}, 2, tsRLE, [][]byte{[]byte("aa"), []byte("bb")}},
		{"RLE, more fragments than frames, no table", [][]byte{[]byte("aa"), []byte("bb"), []byte("cc")}, dicom.OffsetTables{}, 2, tsRLE, nil},
		{"jpeg by codestreams, fragments cut inside a segment and the scan", [][]byte{a[:8], a[8:16], pad(a[16:]), b[:4], pad(b[4:])},
			dicom.OffsetTables{}, 2, tsJPEGLossless, [][]byte{pad(a), pad(b)}},
		{"jpeg, a codestream ends inside a fragment", [][]byte{a[:8], append(pad(a[8:]), b[:4]...), b[4:]}, dicom.OffsetTables{}, 2, tsJPEGLossless, nil},
		{"jpeg, more codestreams than frames", [][]byte{pad(a)[:12], pad(a)[12:], pad(b), pad(a)}, dicom.OffsetTables{}, 2, tsJPEGLossless, nil},
		{"jpeg, broken codestream", [][]byte{a[:8], pad(a[8:20]), pad(b)}, dicom.OffsetTables{}, 2, tsJPEGLossless, nil},
		{"jpeg 2000 by tile-part lengths", [][]byte{j[:6], j[6:], j[:20], j[20:]}, dicom.OffsetTables{}, 2, tsJ2K, [][]byte{j, j}},
		{"jpeg 2000, tile-part up to the EOC", [][]byte{j2kFrame(0)[:6], j2kFrame(0)[6:], j[:20], j[20:]}, dicom.OffsetTables{}, 2, tsJ2K, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := encapsulatedFrames(tc.frags, tc.tabs, tc.n, tc.ts)
			if len(got) != len(tc.want) || (tc.want == nil) != (got == nil) {
				t.Fatalf("%d frames %q, want %q", len(got), got, tc.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Fatalf("frame %d % x, want % x", i+1, got[i], tc.want[i])
				}
			}
		})
	}
}
