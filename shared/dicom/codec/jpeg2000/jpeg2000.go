//go:build cgo

// Package jpeg2000 decodes JPEG 2000 frames (DICOM 1.2.840.10008.1.2.4.90
// and .91) with OpenJPEG, the reference implementation Debian ships as
// libopenjp2-7 (build: libopenjp2-7-dev).
package jpeg2000

/*
#cgo pkg-config: libopenjp2
#include <stdlib.h>
#include <string.h>
#include <openjpeg.h>

typedef struct { const unsigned char* data; OPJ_SIZE_T len, pos; } rp_buf;

static OPJ_SIZE_T rp_read(void* dst, OPJ_SIZE_T n, void* user) {
	rp_buf* b = (rp_buf*)user;
	if (b->pos >= b->len) return (OPJ_SIZE_T)-1;
	if (n > b->len - b->pos) n = b->len - b->pos;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	return n;
}
static OPJ_OFF_T rp_skip(OPJ_OFF_T n, void* user) {
	rp_buf* b = (rp_buf*)user;
	if (n < 0) { if ((OPJ_SIZE_T)(-n) > b->pos) n = -(OPJ_OFF_T)b->pos; }
	else if ((OPJ_SIZE_T)n > b->len - b->pos) n = (OPJ_OFF_T)(b->len - b->pos);
	b->pos += n;
	return n;
}
static OPJ_BOOL rp_seek(OPJ_OFF_T n, void* user) {
	rp_buf* b = (rp_buf*)user;
	if (n < 0 || (OPJ_SIZE_T)n > b->len) return OPJ_FALSE;
	b->pos = (OPJ_SIZE_T)n;
	return OPJ_TRUE;
}

// rp_open reads the header; the caller checks the size before rp_decode.
static opj_image_t* rp_open(rp_buf* b, opj_codec_t** codec, opj_stream_t** stream) {
	OPJ_CODEC_FORMAT fmt = OPJ_CODEC_J2K;
	if (b->len >= 12 && memcmp(b->data + 4, "jP  ", 4) == 0) fmt = OPJ_CODEC_JP2;
	opj_stream_t* s = opj_stream_create(1 << 16, OPJ_TRUE);
	if (!s) return NULL;
	opj_stream_set_user_data(s, b, NULL);
	opj_stream_set_user_data_length(s, b->len);
	opj_stream_set_read_function(s, rp_read);
	opj_stream_set_skip_function(s, rp_skip);
	opj_stream_set_seek_function(s, rp_seek);
	opj_codec_t* c = opj_create_decompress(fmt);
	opj_dparameters_t p;
	opj_set_default_decoder_parameters(&p);
	opj_image_t* img = NULL;
	if (!c || !opj_setup_decoder(c, &p) || !opj_read_header(s, c, &img)) {
		if (img) opj_image_destroy(img);
		if (c) opj_destroy_codec(c);
		opj_stream_destroy(s);
		return NULL;
	}
	*codec = c;
	*stream = s;
	return img;
}

static int rp_decode(opj_codec_t* c, opj_stream_t* s, opj_image_t* img) {
	int ok = opj_decode(c, s, img) && opj_end_decompress(c, s);
	opj_destroy_codec(c);
	opj_stream_destroy(s);
	return ok;
}

static void rp_close(opj_codec_t* c, opj_stream_t* s) {
	opj_destroy_codec(c);
	opj_stream_destroy(s);
}

static opj_image_comp_t* rp_comp(opj_image_t* img, int i) { return &img->comps[i]; }
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/radpass/radpass/shared/dicom/codec"
)

// Available reports whether this build can decode JPEG 2000 (false without cgo).
const Available = true

// Decode decodes one JPEG 2000 codestream (or JP2 file) that must be
// cols x rows with spp components. Samples come back interleaved; signed
// components as two's complement in their precision.
// The C library runs in codec's C lane: bounded in time and concurrency.
func Decode(src []byte, rows, cols, spp int) (*codec.Frame, error) {
	return codec.InCLane(func() (*codec.Frame, error) { return decode(src, rows, cols, spp) })
}

func decode(src []byte, rows, cols, spp int) (*codec.Frame, error) {
	if len(src) < 4 {
		return nil, fmt.Errorf("%w: jpeg 2000: empty frame", codec.ErrCorrupt)
	}
	if rows <= 0 || cols <= 0 || int64(rows)*int64(cols)*int64(max(spp, 1)) > codec.MaxPixels {
		return nil, fmt.Errorf("%w: jpeg 2000: size %dx%d", codec.ErrCorrupt, cols, rows)
	}
	cdata := C.CBytes(src)
	defer C.free(cdata)
	buf := (*C.rp_buf)(C.malloc(C.size_t(unsafe.Sizeof(C.rp_buf{}))))
	defer C.free(unsafe.Pointer(buf))
	buf.data, buf.len, buf.pos = (*C.uchar)(cdata), C.OPJ_SIZE_T(len(src)), 0
	var cc *C.opj_codec_t
	var cs *C.opj_stream_t
	img := C.rp_open(buf, &cc, &cs)
	if img == nil {
		return nil, fmt.Errorf("%w: jpeg 2000: bad header", codec.ErrCorrupt)
	}
	defer C.opj_image_destroy(img)
	w, h, nc := int(img.x1-img.x0), int(img.y1-img.y0), int(img.numcomps)
	ok := w == cols && h == rows && nc == spp
	for i := 0; ok && i < nc; i++ {
		c := C.rp_comp(img, C.int(i))
		ok = c.dx == 1 && c.dy == 1 && c.prec >= 1 && c.prec <= 16
	}
	if !ok {
		C.rp_close(cc, cs)
		return nil, fmt.Errorf("%w: jpeg 2000: %dx%dx%d, header says %dx%dx%d", codec.ErrCorrupt, w, h, nc, cols, rows, spp)
	}
	if C.rp_decode(cc, cs, img) == 0 {
		return nil, fmt.Errorf("%w: jpeg 2000: decode failed", codec.ErrCorrupt)
	}
	f := &codec.Frame{Width: w, Height: h, Components: nc, Pix: make([]uint16, w*h*nc)}
	for i := 0; i < nc; i++ {
		c := C.rp_comp(img, C.int(i))
		if c.data == nil || int(c.w) != w || int(c.h) != h {
			return nil, fmt.Errorf("%w: jpeg 2000: component %d not decoded", codec.ErrCorrupt, i)
		}
		f.Precision = max(f.Precision, int(c.prec))
		// Lossy decoding can overshoot the range: clamp, then store as
		// two's complement in prec bits.
		mask := int32(1)<<uint(c.prec) - 1
		lo, hi := int32(0), mask
		if c.sgnd != 0 {
			lo, hi = -(mask+1)/2, mask/2
		}
		data := unsafe.Slice((*int32)(unsafe.Pointer(c.data)), w*h)
		for k, v := range data {
			f.Pix[k*nc+i] = uint16(min(max(v, lo), hi) & mask)
		}
	}
	return f, nil
}
