//go:build !cgo

package jpegls

import (
	"fmt"

	"github.com/radpass/radpass/shared/dicom/codec"
)

// Available reports whether this build can decode JPEG-LS (false without cgo).
const Available = false

// Decode needs cgo and CharLS; this build has neither.
func Decode(src []byte, rows, cols, spp int) (*codec.Frame, error) {
	return nil, fmt.Errorf("%w: jpeg-ls: built without cgo", codec.ErrCorrupt)
}
