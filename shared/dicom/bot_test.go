package dicom

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/testkit/testtool"
)

func TestByOffsetTable(t *testing.T) {
	a, b, c, d := []byte("aaaa"), []byte("bb"), []byte("cccccc"), []byte("dd")
	frags := [][]byte{a, b, c, d}
	for _, tc := range []struct {
		name   string
		frames int
		bot    []uint32
		want   [][]byte
	}{
		{"two frames of two fragments", 2, []uint32{0, 8 + 4 + 8 + 2}, [][]byte{[]byte("aaaabb"), []byte("ccccccdd")}},
		{"one frame per fragment", 4, []uint32{0, 12, 22, 36}, frags},
		{"first frame of three", 2, []uint32{0, 36}, [][]byte{[]byte("aaaabbcccccc"), d}},
		{"no table", 2, nil, nil},
		{"offset inside a fragment", 2, []uint32{0, 10}, nil},
		{"count differs from frames", 3, []uint32{0, 22}, nil},
		{"not starting at 0", 2, []uint32{4, 22}, nil},
		{"offset past the end", 2, []uint32{0, 1000}, nil},
		{"descending", 3, []uint32{0, 22, 12}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := byOffsetTable(frags, tc.frames, tc.bot)
			if len(got) != len(tc.want) {
				t.Fatalf("%q, want %q", got, tc.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Fatalf("frame %d %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestOffsetTableRead: the walk reads the Basic Offset Table dcmtk writes
// for a multi-frame image split into many fragments, and the frames are
// grouped by it.
func TestOffsetTableRead(t *testing.T) {
	testtool.Need(t, "dcmcjpls")
	s := Synth{StudyUID: "1.2", SeriesUID: "1.2.3", SOPUID: "1.2.3.4", PatientID: "B", Rows: 64, Cols: 64, Frames: 3,
		BitsAllocated: 16, Pixel: func(f, i, _ int) int { return (i*7919 + f*31) % 65536 }}
	in, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "out.dcm")
	if err := os.WriteFile(src, in, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dcmcjpls", "+fs", "1", "+ot", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	ds, info, err := parse(bytes.NewReader(b), int64(len(b)), dcm.SkipProcessingPixelDataValue())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.bot) != 3 || info.bot[0] != 0 {
		t.Fatalf("offset table %v", info.bot)
	}
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatal(err)
	}
	pd := e.Value.GetValue().(dcm.PixelDataInfo)
	if len(pd.Frames) <= 3 {
		t.Fatalf("%d fragments: the test needs several per frame", len(pd.Frames))
	}
	var frags [][]byte
	for _, f := range pd.Frames {
		frags = append(frags, f.EncapsulatedData.Data)
	}
	if got := byOffsetTable(frags, 3, info.bot); len(got) != 3 {
		t.Fatalf("%d frames by the offset table", len(got))
	}
}
