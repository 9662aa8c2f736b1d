//go:build !cgo

package jpeg2000

import (
	"fmt"

	"github.com/radpass/radpass/shared/dicom/codec"
)

// Available reports whether this build can decode JPEG 2000 (false without cgo).
const Available = false

// Decode needs cgo and OpenJPEG; this build has neither.
func Decode(src []byte, rows, cols, spp int) (*codec.Frame, error) {
	return nil, fmt.Errorf("%w: jpeg 2000: built without cgo", codec.ErrCorrupt)
}
