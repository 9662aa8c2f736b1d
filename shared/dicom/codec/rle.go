// Package codec decodes the compressed pixel data of DICOM frames that are
// small and well specified enough to implement in Go: RLE Lossless (PS3.5
// Annex G) and JPEG lossless (ITU T.81 process 14, including selection
// value 1) and 8/12-bit sequential DCT JPEG (process 1/2/4). Every decoder
// takes the size the DICOM header announces, refuses a stream that
// disagrees with it, bounds its allocations and never panics.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt: the compressed stream is malformed or disagrees with the header.
var ErrCorrupt = errors.New("corrupt compressed frame")

// MaxPixels bounds one frame (rows x columns): 64 Mi pixels.
const MaxPixels = 1 << 26

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
}

// DecodeRLE decodes one RLE Lossless frame of rows x cols pixels with spp
// samples of bitsAllocated (8, 16 or 32) bits. The result is the native
// layout with planar configuration 0: samples interleaved, each sample
// little endian.
func DecodeRLE(src []byte, rows, cols, spp, bitsAllocated int) ([]byte, error) {
	if rows <= 0 || cols <= 0 || int64(rows)*int64(cols) > MaxPixels {
		return nil, corrupt("rle: bad size %dx%d", cols, rows)
	}
	if spp != 1 && spp != 3 {
		return nil, corrupt("rle: %d samples per pixel", spp)
	}
	if bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32 {
		return nil, corrupt("rle: %d bits allocated", bitsAllocated)
	}
	bps := bitsAllocated / 8
	nseg := spp * bps
	if len(src) < 64 {
		return nil, corrupt("rle: short header")
	}
	if got := int(binary.LittleEndian.Uint32(src)); got != nseg {
		return nil, corrupt("rle: %d segments, header needs %d", got, nseg)
	}
	n := rows * cols
	out := make([]byte, n*nseg)
	stride := nseg
	for s := 0; s < nseg; s++ {
		start := int64(binary.LittleEndian.Uint32(src[4+4*s:]))
		end := int64(len(src))
		if s+1 < nseg {
			end = int64(binary.LittleEndian.Uint32(src[8+4*s:]))
		}
		if start < 64 || start > end || end > int64(len(src)) {
			return nil, corrupt("rle: segment %d offsets %d..%d", s, start, end)
		}
		// Segment s holds byte (bps-1 - s%bps) of sample s/bps: the most
		// significant byte comes first.
		sample, byteIdx := s/bps, bps-1-s%bps
		if err := unpackBits(src[start:end], out[sample*bps+byteIdx:], stride, n); err != nil {
			return nil, fmt.Errorf("%w (segment %d)", err, s)
		}
	}
	return out, nil
}

// unpackBits decodes a PackBits segment into n bytes written every stride
// bytes of dst. Trailing bytes after n (padding) are ignored.
func unpackBits(seg, dst []byte, stride, n int) error {
	o := 0
	for i := 0; i < len(seg) && o < n; {
		h := int(int8(seg[i]))
		i++
		switch {
		case h >= 0: // h+1 literal bytes
			k := h + 1
			if i+k > len(seg) || o+k > n {
				return corrupt("rle: literal run past the end")
			}
			for j := 0; j < k; j++ {
				dst[(o+j)*stride] = seg[i+j]
			}
			i += k
			o += k
		case h != -128: // byte repeated 1-h times
			k := 1 - h
			if i >= len(seg) || o+k > n {
				return corrupt("rle: replicate run past the end")
			}
			b := seg[i]
			i++
			for j := 0; j < k; j++ {
				dst[(o+j)*stride] = b
			}
			o += k
		}
	}
	if o != n {
		return corrupt("rle: segment decodes to %d bytes, want %d", o, n)
	}
	return nil
}
