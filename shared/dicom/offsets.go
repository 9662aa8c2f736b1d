package dicom

import (
	"io"

	dcm "github.com/suyashkumar/dicom"
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
