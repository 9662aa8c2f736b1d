package storage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/radpass/radpass/shared/dicom"
)

// The viewer decodes stored files through Blob.ReadAt: from either backend
// its last frame renders to the same pixels as from the file on disk
// (5.dcm, 1 MB, is uploaded in two parts on S3).
func TestStoreRendersDICOM(t *testing.T) {
	t.Parallel()
	dir, err := dicom.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		for _, name := range []string{"5.dcm"} {
			path := filepath.Join(dir, name)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			key, _, _, err := b.st.Put(ctx, f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			want := render(t, path, nil)
			bl, err := b.st.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, "", bl)
			bl.Close()
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: the stored file renders differently", name)
			}
		}
	})
}

// render decodes the last frame of path, or of bl when path is empty, and
// returns its pixels.
func render(t *testing.T, path string, bl interface {
	ReadAt([]byte, int64) (int, error)
	Size() int64
}) []byte {
	t.Helper()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		bl = fileSized{f, st.Size()}
	}
	im, err := dicom.Decode(bl, bl.Size())
	if err != nil {
		t.Fatal(err)
	}
	img, err := im.Render(dicom.Options{Frame: im.Meta.Frames - 1, Size: 128})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.At(x, y)
			rr, g, bb, a := c.RGBA()
			buf.Write([]byte{byte(rr >> 8), byte(g >> 8), byte(bb >> 8), byte(a >> 8)})
		}
	}
	return buf.Bytes()
}

type fileSized struct {
	*os.File
	size int64
}

func (f fileSized) Size() int64 { return f.size }
