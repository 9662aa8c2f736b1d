package dicom

import (
	"io"
	"math"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// OffsetTables are the frame offsets stored with encapsulated pixel data
// (PS3.5 A.4, PS3.3 C.7.6.3.1.8), which the parser itself drops: the Basic
// Offset Table (offsets of each frame's first fragment item from the first
// fragment item) and the Extended Offset Table (7FE0,0001) with its frame
// lengths (7FE0,0002). Each is nil when absent or empty.
type OffsetTables struct {
	Basic           []uint32
	Extended        []uint64
	ExtendedLengths []uint64
}

// ReadFullOffsets is ReadFull that also returns the offset tables of the
// data set's encapsulated pixel data.
func ReadFullOffsets(r io.ReaderAt, size int64) (*dcm.Dataset, OffsetTables, error) {
	ds, info, err := parse(r, size, dcm.SkipProcessingPixelDataValue())
	if err != nil {
		return nil, OffsetTables{}, err
	}
	m := metaFrom(ds)
	if !validUID(m.SOPInstanceUID) || !validUID(m.StudyUID) || !validUID(m.SeriesUID) {
		return nil, OffsetTables{}, ErrMissingUID
	}
	return &ds, OffsetTables{Basic: info.bot, Extended: info.eot, ExtendedLengths: info.eotLengths}, nil
}

// KeepOffsetTable prepares ds, read by ReadFullOffsets, for writing out
// with its pixel data unchanged: the writer writes the Basic Offset Table
// the pixel data carries, which the parser left empty, so the table read
// (tabs.Basic) goes back in; an Extended Offset Table becomes the Basic one
// (the same offsets, when they fit 32 bits) and its elements are removed
// (the writer cannot encode their 64-bit VR).
func KeepOffsetTable(ds *dcm.Dataset, tabs OffsetTables) {
	offs := tabs.Basic
	if len(offs) == 0 && len(tabs.Extended) > 0 {
		for _, o := range tabs.Extended {
			if o > math.MaxUint32 {
				offs = nil
				break
			}
			offs = append(offs, uint32(o))
		}
	}
	kept := ds.Elements[:0]
	for _, e := range ds.Elements {
		if e.Tag != tag.ExtendedOffsetTable && e.Tag != tag.ExtendedOffsetTableLengths {
			kept = append(kept, e)
		}
	}
	ds.Elements = kept
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil || e.Value == nil {
		return
	}
	info, ok := e.Value.GetValue().(dcm.PixelDataInfo)
	if !ok || !info.IsEncapsulated {
		return
	}
	info.Offsets = offs
	if v, err := dcm.NewValue(info); err == nil {
		e.Value = v
	}
}
