package dicomweb

import (
	"errors"
	"io"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/dicom/deid"
)

func dcmWrite(w io.Writer, ds *dcm.Dataset) error { return deid.Write(w, ds) }

// errFrames: the pixel data cannot be cut into its frames as stored (an
// encapsulated frame split over several fragments whose offset table the
// parser dropped).
var errFrames = errors.New("the frames of this instance cannot be sent as stored")

// pixelFrames cuts ds's pixel data (kept as stored) into n frames: native
// pixels by the frame size, encapsulated ones one fragment per frame (or all
// fragments for a single frame).
func pixelFrames(ds *dcm.Dataset, n int) ([][]byte, error) {
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil || e.Value == nil {
		return nil, errFrames
	}
	info, ok := e.Value.GetValue().(dcm.PixelDataInfo)
	if !ok {
		return nil, errFrames
	}
	if info.IsEncapsulated {
		frags := make([][]byte, 0, len(info.Frames))
		for _, f := range info.Frames {
			frags = append(frags, f.EncapsulatedData.Data)
		}
		switch {
		case len(frags) == n:
			return frags, nil
		case n == 1 && len(frags) > 0:
			var all []byte
			for _, f := range frags {
				all = append(all, f...)
			}
			return [][]byte{all}, nil
		}
		return nil, errFrames
	}
	data := info.UnprocessedValueData
	rows, cols := intOf(ds, tag.Rows), intOf(ds, tag.Columns)
	spp, bits := max(intOf(ds, tag.SamplesPerPixel), 1), intOf(ds, tag.BitsAllocated)
	if rows <= 0 || cols <= 0 || bits <= 0 || bits%8 != 0 {
		return nil, errFrames
	}
	size := rows * cols * spp * bits / 8
	if size*n > len(data) {
		return nil, errFrames
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = data[i*size : (i+1)*size]
	}
	return out, nil
}

func intOf(ds *dcm.Dataset, t tag.Tag) int {
	e, err := ds.FindElementByTag(t)
	if err != nil || e.Value == nil {
		return 0
	}
	if v, ok := e.Value.GetValue().([]int); ok && len(v) > 0 {
		return v[0]
	}
	return 0
}
