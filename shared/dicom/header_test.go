package dicom_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	rd "github.com/radpass/radpass/shared/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// countingReaderAt counts the bytes read.
type countingReaderAt struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// ReadHeader of a 7.5 MB radiograph (implicit VR, native pixels) reads a
// small part of it: the pixel data, skipped, is not read (a download reads
// every file's header before its first byte).
func TestReadHeaderSkipsPixelBytes(t *testing.T) {
	dir, err := rd.SampleDir()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "4.dcm"))
	if err != nil {
		t.Fatal(err)
	}
	c := &countingReaderAt{r: bytes.NewReader(b)}
	ds, _, err := rd.ReadHeader(c, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.n.Load(); got > int64(len(b))/4 {
		t.Errorf("read %d of %d bytes for the header", got, len(b))
	}
	e, err := ds.FindElementByTag(tag.Rows)
	if err != nil || e.Value.GetValue().([]int)[0] == 0 {
		t.Errorf("rows %v %v", e, err)
	}
	if _, err := ds.FindElementByTag(tag.PixelData); err != nil {
		t.Error("pixel data element missing from the header")
	}
}
