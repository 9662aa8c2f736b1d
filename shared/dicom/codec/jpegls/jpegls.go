//go:build cgo

// Package jpegls decodes JPEG-LS frames (DICOM 1.2.840.10008.1.2.4.80 and
// .81) with CharLS, the reference implementation Debian ships as
// libcharls2 (build: libcharls-dev).
package jpegls

/*
#cgo pkg-config: charls
#include <stdlib.h>
#include <charls/charls.h>

static int rp_decode_header(const void* src, size_t n, charls_frame_info* fi, int* interleave, charls_jpegls_decoder** out) {
	charls_jpegls_decoder* d = charls_jpegls_decoder_create();
	if (!d) return -1;
	int err = charls_jpegls_decoder_set_source_buffer(d, src, n);
	if (!err) err = charls_jpegls_decoder_read_header(d);
	if (!err) err = charls_jpegls_decoder_get_frame_info(d, fi);
	charls_interleave_mode im = CHARLS_INTERLEAVE_MODE_NONE;
	if (!err) err = charls_jpegls_decoder_get_interleave_mode(d, &im);
	*interleave = (int)im;
	if (err) { charls_jpegls_decoder_destroy(d); return err; }
	*out = d;
	return 0;
}

static int rp_decode(charls_jpegls_decoder* d, void* dst, size_t n) {
	int err = charls_jpegls_decoder_decode_to_buffer(d, dst, n, 0);
	charls_jpegls_decoder_destroy(d);
	return err;
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/radpass/radpass/shared/dicom/codec"
)

// Available reports whether this build can decode JPEG-LS (false without cgo).
const Available = true

// Decode decodes one JPEG-LS frame that must be cols x rows with spp
// samples per pixel. Samples come back interleaved.
// The C library runs in codec's C lane: bounded in time and concurrency.
func Decode(src []byte, rows, cols, spp int) (*codec.Frame, error) {
	return codec.InCLane(func() (*codec.Frame, error) { return decode(src, rows, cols, spp) })
}

func decode(src []byte, rows, cols, spp int) (*codec.Frame, error) {
	if len(src) < 4 {
		return nil, fmt.Errorf("%w: jpeg-ls: empty frame", codec.ErrCorrupt)
	}
	if rows <= 0 || cols <= 0 || int64(rows)*int64(cols)*int64(max(spp, 1)) > codec.MaxPixels {
		return nil, fmt.Errorf("%w: jpeg-ls: size %dx%d", codec.ErrCorrupt, cols, rows)
	}
	// CharLS reads from C memory: the Go slice must not move during the call.
	csrc := C.CBytes(src)
	defer C.free(csrc)
	var fi C.charls_frame_info
	var interleave C.int
	var dec *C.charls_jpegls_decoder
	if rc := C.rp_decode_header(csrc, C.size_t(len(src)), &fi, &interleave, &dec); rc != 0 {
		return nil, fmt.Errorf("%w: jpeg-ls: header error %d", codec.ErrCorrupt, int(rc))
	}
	w, h, bits, nc := int(fi.width), int(fi.height), int(fi.bits_per_sample), int(fi.component_count)
	if w != cols || h != rows || nc != spp || bits < 2 || bits > 16 {
		C.rp_decode(dec, nil, 0) // destroys the decoder
		return nil, fmt.Errorf("%w: jpeg-ls: %dx%dx%d of %d bits, header says %dx%dx%d", codec.ErrCorrupt, w, h, nc, bits, cols, rows, spp)
	}
	bps := 1
	if bits > 8 {
		bps = 2
	}
	n := w * h * nc * bps
	dst := C.malloc(C.size_t(n))
	if dst == nil {
		C.rp_decode(dec, nil, 0)
		return nil, fmt.Errorf("%w: jpeg-ls: out of memory", codec.ErrCorrupt)
	}
	defer C.free(dst)
	if rc := C.rp_decode(dec, dst, C.size_t(n)); rc != 0 {
		return nil, fmt.Errorf("%w: jpeg-ls: decode error %d", codec.ErrCorrupt, int(rc))
	}
	raw := unsafe.Slice((*byte)(dst), n)
	f := &codec.Frame{Width: w, Height: h, Components: nc, Precision: bits, Pix: make([]uint16, w*h*nc)}
	planar := interleave == 0 && nc > 1 // interleave mode none: plane after plane
	np := w * h
	for k := 0; k < w*h*nc; k++ {
		var v uint16
		if bps == 1 {
			v = uint16(raw[k])
		} else {
			v = uint16(raw[2*k]) | uint16(raw[2*k+1])<<8
		}
		if planar {
			f.Pix[(k%np)*nc+k/np] = v
		} else {
			f.Pix[k] = v
		}
	}
	return f, nil
}
