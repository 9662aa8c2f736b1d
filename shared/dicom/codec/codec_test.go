package codec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/radpass/radpass/shared/dicom/codec"
)

// rleFrame builds an RLE frame from PackBits segments.
func rleFrame(segs ...[]byte) []byte {
	h := make([]byte, 64)
	binary.LittleEndian.PutUint32(h, uint32(len(segs)))
	off := 64
	var body []byte
	for i, s := range segs {
		binary.LittleEndian.PutUint32(h[4+4*i:], uint32(off))
		off += len(s)
		body = append(body, s...)
	}
	return append(h, body...)
}

func TestDecodeRLE(t *testing.T) {
	for _, tc := range []struct {
		name            string
		src             []byte
		rows, cols, spp int
		bits            int
		want            []byte
		wantErr         bool
	}{
		// 2x3 8-bit: a literal run of 2, a replicate run of 4.
		{"8-bit literal and replicate", rleFrame([]byte{1, 10, 20, 0xFD, 7}), 2, 3, 1, 8, []byte{10, 20, 7, 7, 7, 7}, false},
		// 16-bit: high byte segment first, output little endian.
		{"16-bit byte planes", rleFrame([]byte{1, 0x01, 0x02}, []byte{1, 0xAA, 0xBB}), 1, 2, 1, 16, []byte{0xAA, 0x01, 0xBB, 0x02}, false},
		// RGB: planes R, G, B interleaved on output.
		{"rgb planes", rleFrame([]byte{0xFF, 1}, []byte{0xFF, 2}, []byte{0xFF, 3}), 1, 2, 3, 8, []byte{1, 2, 3, 1, 2, 3}, false},
		{"padding byte after the data", rleFrame([]byte{0xFF, 9, 0}), 1, 2, 1, 8, []byte{9, 9}, false},
		{"no-op run (-128) skipped", rleFrame([]byte{0x80, 0xFF, 9}), 1, 2, 1, 8, []byte{9, 9}, false},
		{"segment count disagrees", rleFrame([]byte{0xFF, 9}), 1, 2, 1, 16, nil, true},
		{"segment too short", rleFrame([]byte{0, 9}), 1, 2, 1, 8, nil, true},
		{"literal run past the frame", rleFrame([]byte{5, 1, 2, 3, 4, 5, 6}), 1, 2, 1, 8, nil, true},
		{"literal run past the segment", rleFrame([]byte{3, 1}), 1, 2, 1, 8, nil, true},
		{"offset past the end", func() []byte { b := rleFrame([]byte{0xFF, 9}); binary.LittleEndian.PutUint32(b[4:], 9999); return b }(), 1, 2, 1, 8, nil, true},
		{"offset inside the header", func() []byte { b := rleFrame([]byte{0xFF, 9}); binary.LittleEndian.PutUint32(b[4:], 8); return b }(), 1, 2, 1, 8, nil, true},
		{"short header", []byte{1, 0, 0, 0}, 1, 1, 1, 8, nil, true},
		{"huge size from the header", rleFrame([]byte{0xFF, 9}), 1 << 14, 1 << 14, 1, 8, nil, true},
		{"bits not 8/16/32", rleFrame([]byte{0xFF, 9}), 1, 2, 1, 12, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.DecodeRLE(tc.src, tc.rows, tc.cols, tc.spp, tc.bits)
			if tc.wantErr {
				if !errors.Is(err, codec.ErrCorrupt) {
					t.Fatalf("err %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("%v %v, want %v", got, err, tc.want)
			}
		})
	}
}

// A hand-made lossless JPEG: 2x2, 8-bit, predictor 1, one Huffman table
// with a single 1-bit code for category 0 (difference 0): every sample is
// the initial prediction 128.
func losslessJPEG(w, h int) []byte {
	b := []byte{0xFF, 0xD8}
	b = append(b, 0xFF, 0xC3, 0, 11, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0)
	dht := []byte{0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = append(b, 0xFF, 0xC4, 0, byte(2+len(dht)))
	b = append(b, dht...)
	b = append(b, 0xFF, 0xDA, 0, 8, 1, 1, 0x00, 1, 0, 0)
	b = append(b, 0x00, 0x00) // all zero bits: code "0" = category 0
	return append(b, 0xFF, 0xD9)
}

func TestDecodeJPEG(t *testing.T) {
	ok := losslessJPEG(2, 2)
	for _, tc := range []struct {
		name       string
		src        []byte
		rows, cols int
		wantErr    bool
	}{
		{"lossless 2x2", ok, 2, 2, false},
		{"size disagrees with the header", ok, 2, 3, true},
		{"huge size refused before allocating", losslessJPEG(60000, 60000), 60000, 60000, true},
		{"no SOI", ok[2:], 2, 2, true},
		{"truncated in the frame header", ok[:8], 2, 2, true},
		{"no scan", ok[:15], 2, 2, true},
		{"empty", nil, 2, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := codec.DecodeJPEG(tc.src, tc.rows, tc.cols)
			if tc.wantErr {
				if !errors.Is(err, codec.ErrCorrupt) {
					t.Fatalf("err %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range f.Pix {
				if v != 128 {
					t.Fatalf("pixels %v, want all 128", f.Pix)
				}
			}
		})
	}
}
