package dicom_test

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/dicom"
)

// deflatedFile builds a Deflated Explicit VR Little Endian file whose data set
// is one OB element of n zero bytes: tiny on disk, n bytes once inflated.
func deflatedFile(t *testing.T, n uint32) []byte {
	t.Helper()
	var f bytes.Buffer
	f.Write(make([]byte, 128))
	f.WriteString("DICM")
	ts := "1.2.840.10008.1.2.1.99"
	// File meta group, explicit VR little endian: group length, then (0002,0010).
	var meta bytes.Buffer
	ui(&meta, 0x0002, 0x0010, ts)
	binary.Write(&f, binary.LittleEndian, [2]uint16{0x0002, 0x0000})
	f.WriteString("UL")
	binary.Write(&f, binary.LittleEndian, uint16(4))
	binary.Write(&f, binary.LittleEndian, uint32(meta.Len()))
	f.Write(meta.Bytes())

	// The data set is otherwise valid (the three UIDs ReadMeta requires).
	var ds bytes.Buffer
	ui(&ds, 0x0008, 0x0018, "2.25.1001")
	ui(&ds, 0x0020, 0x000D, "2.25.1002")
	ui(&ds, 0x0020, 0x000E, "2.25.1003")
	binary.Write(&ds, binary.LittleEndian, [2]uint16{0x0011, 0x1010})
	ds.WriteString("OB\x00\x00")
	binary.Write(&ds, binary.LittleEndian, n)
	fw, err := flate.NewWriter(&f, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(ds.Bytes())
	zeros := make([]byte, 1<<20)
	for left := int64(n); left > 0; left -= int64(len(zeros)) {
		fw.Write(zeros[:min(left, int64(len(zeros)))])
	}
	fw.Close()
	return f.Bytes()
}

// ui writes an explicit-VR UI element, padded to even length.
func ui(b *bytes.Buffer, group, elem uint16, v string) {
	if len(v)%2 == 1 {
		v += "\x00"
	}
	binary.Write(b, binary.LittleEndian, [2]uint16{group, elem})
	b.WriteString("UI")
	binary.Write(b, binary.LittleEndian, uint16(len(v)))
	b.WriteString(v)
}

// A deflate bomb (256 MiB claimed inside well under a megabyte) is refused before
// the DICOM library gets to allocate the claimed length.
func TestDeflateBombIsRefusedNoRace(t *testing.T) {
	// 256 MiB inflated from well under a megabyte: beyond the 64 MiB floor
	// of the inflate limit (and still quick to build under -race).
	b := deflatedFile(t, 256<<20)
	if len(b) > 1<<20 {
		t.Fatalf("test file is %d bytes; the bomb should be small", len(b))
	}
	if _, err := dicom.ReadMeta(bytes.NewReader(b), int64(len(b))); !errors.Is(err, dicom.ErrNotDICOM) {
		t.Fatalf("a 256 MiB element in a small deflated file: err = %v, want ErrNotDICOM", err)
	}
	// The same file with a small element is a valid object: only the size is refused.
	ok := deflatedFile(t, 1<<10)
	if _, err := dicom.ReadMeta(bytes.NewReader(ok), int64(len(ok))); err != nil {
		t.Fatalf("the same file with a 1 KiB element is refused: %v", err)
	}
}

// A baseline JPEG frame must have the size the header gives: a small file
// whose JPEG claims a huge image is not decoded.
func TestJPEGFrameMustMatchHeader(t *testing.T) {
	base := dicom.Synth{
		StudyUID: "2.25.2001", SeriesUID: "2.25.2002", SOPUID: "2.25.2003",
		Rows: 32, Cols: 32, BitsAllocated: 8, TransferSyntax: "1.2.840.10008.1.2.4.50",
		Pixel: func(f, i, s int) int { return i % 256 },
	}
	tests := []struct {
		name    string
		jpeg    image.Point
		wantErr bool
	}{
		{"matching size", image.Point{}, false},
		{"JPEG larger than the header", image.Pt(2048, 2048), true},
		{"JPEG smaller than the header", image.Pt(16, 16), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			s.JPEGSize = tt.jpeg
			b, err := s.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			im, err := dicom.Decode(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = im.Render(dicom.Options{})
			if gotErr := errors.Is(err, dicom.ErrNoPreview); gotErr != tt.wantErr {
				t.Fatalf("Render: err = %v, want ErrNoPreview: %v", err, tt.wantErr)
			}
		})
	}
}

func TestSnapSize(t *testing.T) {
	tests := []struct{ in, want int }{
		{-5, 0}, {0, 0}, {1, 64}, {64, 64}, {65, 128}, {200, 256}, {512, 512}, {513, 1024}, {2048, 2048}, {2049, 0}, {4096, 0}, {99999, 0},
	}
	for _, tt := range tests {
		if got := dicom.SnapSize(tt.in); got != tt.want {
			t.Errorf("SnapSize(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// The render cache forgets renderings by age; a fresh one stays.
func TestPurgeCacheByAge(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "ab", "old")
	fresh := filepath.Join(dir, "cd", "fresh")
	for _, p := range []string{old, fresh} {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-40 * 24 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	r := &dicom.Renderer{CacheDir: dir}
	n, err := r.PurgeCache(30 * 24 * time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("PurgeCache: %d removed, err %v; want 1", n, err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Error("the old rendering is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("the fresh rendering was removed")
	}
	if n, err := (&dicom.Renderer{CacheDir: filepath.Join(dir, "missing")}).PurgeCache(time.Hour); err != nil || n != 0 {
		t.Errorf("missing cache folder: %d, %v", n, err)
	}
}
