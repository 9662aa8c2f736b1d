//go:build cgo

package jpegls_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/dicom/codec"
	"github.com/radpass/radpass/shared/dicom/codec/jpegls"
)

// A 260-byte frame found by fuzzing keeps CharLS 2.4 busy for about 13 s
// before it reports the data invalid. The decoder must not hold its caller
// that long: past codec.CBudget the frame is refused as too slow.
func TestSlowCodestreamIsCutOff(t *testing.T) {
	b, err := os.ReadFile("testdata/slow-16x12.jls")
	if err != nil {
		t.Fatal(err)
	}
	old := codec.CBudget
	codec.CBudget = 300 * time.Millisecond
	defer func() { codec.CBudget = old }()
	_, err = jpegls.Decode(b, 12, 16, 1)
	if !errors.Is(err, codec.ErrTooSlow) || !errors.Is(err, codec.ErrCorrupt) {
		t.Fatalf("slow codestream: %v, want a corrupt-frame error for taking too long", err)
	}
}
