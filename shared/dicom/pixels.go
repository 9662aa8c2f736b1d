package dicom

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"strings"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/radpass/radpass/shared/dicom/codec"
	"github.com/radpass/radpass/shared/dicom/codec/jpeg2000"
	"github.com/radpass/radpass/shared/dicom/codec/jpegls"
)

// Transfer syntaxes whose pixel data we can turn into an image.
const (
	tsImplicitLE  = "1.2.840.10008.1.2"
	tsExplicitLE  = "1.2.840.10008.1.2.1"
	tsDeflated    = "1.2.840.10008.1.2.1.99"
	tsExplicitBE  = "1.2.840.10008.1.2.2"
	tsRLE         = "1.2.840.10008.1.2.5"
	tsJPEGBase    = "1.2.840.10008.1.2.4.50" // 8-bit baseline JPEG: image/jpeg decodes it
	tsJPEGExt     = "1.2.840.10008.1.2.4.51" // extended sequential, 12-bit: codec
	tsJPEGLL14    = "1.2.840.10008.1.2.4.57" // lossless process 14, any predictor
	tsJPEGLLSV1   = "1.2.840.10008.1.2.4.70" // lossless process 14, selection value 1
	tsJPEGLS      = "1.2.840.10008.1.2.4.80"
	tsJPEGLSNear  = "1.2.840.10008.1.2.4.81"
	tsJ2KLossless = "1.2.840.10008.1.2.4.90"
	tsJ2K         = "1.2.840.10008.1.2.4.91"
)

// Renderable reports whether frames of this transfer syntax can be rendered.
func Renderable(ts string) bool {
	switch ts {
	case "", tsImplicitLE, tsExplicitLE, tsDeflated, tsExplicitBE, tsJPEGBase,
		tsRLE, tsJPEGExt, tsJPEGLL14, tsJPEGLLSV1:
		return true
	case tsJPEGLS, tsJPEGLSNear:
		return jpegls.Available
	case tsJ2KLossless, tsJ2K:
		return jpeg2000.Available
	}
	return false
}

func encapsulated(ts string) bool {
	switch ts {
	case "", tsImplicitLE, tsExplicitLE, tsDeflated, tsExplicitBE:
		return false
	}
	return true
}

// maxSamples bounds what one frame may ask a decoder to allocate
// (64 Mi samples, 256 MB as 32-bit values); real images stay below it.
const maxSamples = 1 << 26

// Image is a decoded instance: metadata plus its pixel data, either native
// sample bytes (decoded here, frame by frame) or encapsulated frames.
type Image struct {
	Meta      *Meta
	raw       []byte   // native pixel data as stored
	frameBits int      // bits per native frame (BitsAllocated 1 packs frames without padding)
	bigEndian bool     // explicit VR big endian (retired, still seen)
	enc       [][]byte // encapsulated frames, fragments joined
	palette   *palette // the lookup tables of a PALETTE COLOR image
	// pixelRange is Smallest/Largest Image Pixel Value (stored values)
	// when the file has both; nil otherwise.
	pixelRange *[2]float64
}

// Frames is the number of frames that can be rendered.
func (im *Image) Frames() int {
	if im.frameBits > 0 {
		return min(max(im.Meta.Frames, 1), int(int64(len(im.raw))*8/int64(im.frameBits)))
	}
	return len(im.enc)
}

// Decode parses a whole DICOM object in one pass. Native pixel data is kept
// as raw bytes (the library's per-sample reader is the slow part of a cold
// render); checkLengths has already bounded every allocation by the file size.
func Decode(r io.ReaderAt, size int64) (*Image, error) {
	ds, walked, err := parse(r, size, dcm.SkipProcessingPixelDataValue())
	if err != nil {
		return nil, err
	}
	m := metaFrom(ds)
	if !validUID(m.SOPInstanceUID) || !validUID(m.StudyUID) || !validUID(m.SeriesUID) {
		return nil, ErrMissingUID
	}
	im := &Image{Meta: m, bigEndian: m.TransferSyntax == tsExplicitBE}
	if !m.HasPixelData || !Renderable(m.TransferSyntax) || m.Rows <= 0 || m.Columns <= 0 {
		return im, ErrNoPreview
	}
	im.pixelRange = pixelRange(ds, m)
	if m.Photometric == "PALETTE COLOR" {
		if m.SamplesPerPixel != 1 || (m.BitsAllocated != 8 && m.BitsAllocated != 16) {
			return im, ErrNoPreview
		}
		if im.palette, err = readPalette(ds, m.PixelRepresentation == 1); err != nil {
			return im, ErrNoPreview
		}
	}
	samples := int64(m.Rows) * int64(m.Columns) * int64(max(m.SamplesPerPixel, 1))
	if samples > maxSamples {
		return nil, ErrTooLarge
	}
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		return im, ErrNoPreview
	}
	info, ok := e.Value.GetValue().(dcm.PixelDataInfo)
	switch {
	case !ok:
		return im, ErrNoPreview
	case info.IntentionallyUnprocessed && !encapsulated(m.TransferSyntax):
		switch m.BitsAllocated {
		case 1, 8, 16, 32:
		default:
			return im, ErrNoPreview
		}
		im.raw = info.UnprocessedValueData
		im.frameBits = int(samples) * m.BitsAllocated
		if m.Photometric == "YBR_FULL_422" {
			if m.BitsAllocated != 8 || m.SamplesPerPixel != 3 || m.Columns%2 != 0 {
				return im, ErrNoPreview
			}
			im.frameBits = m.Rows * m.Columns * 2 * 8
		}
		if int64(len(im.raw))*8 < int64(im.frameBits) {
			return im, ErrNoPreview
		}
	case len(info.Frames) > 0 && encapsulated(m.TransferSyntax):
		frags := make([][]byte, len(info.Frames))
		for i, f := range info.Frames {
			frags[i] = f.EncapsulatedData.Data
		}
		im.enc = groupFragments(frags, m.Frames, m.TransferSyntax, walked.bot)
	default:
		return im, ErrNoPreview
	}
	return im, nil
}

// pixelRange reads Smallest and Largest Image Pixel Value (US or SS as the
// pixels are); nil unless both are there and smallest < largest.
func pixelRange(ds dcm.Dataset, m *Meta) *[2]float64 {
	lo, hi := ints(ds, tag.SmallestImagePixelValue), ints(ds, tag.LargestImagePixelValue)
	if len(lo) != 1 || len(hi) != 1 {
		return nil
	}
	a, b := lo[0]&0xFFFF, hi[0]&0xFFFF
	if m.PixelRepresentation == 1 {
		a, b = int(int16(uint16(a))), int(int16(uint16(b)))
	}
	if a >= b {
		return nil
	}
	return &[2]float64{float64(a), float64(b)}
}

// groupFragments joins the fragments of encapsulated pixel data into frames
// (PS3.5 A.4): by the Basic Offset Table when it has one offset per frame
// that falls on fragment boundaries; else one fragment per frame when the
// counts agree, everything in one frame for a single-frame image, else a
// new frame at each fragment that starts a codestream (JPEG SOI, JPEG 2000
// SOC; an RLE frame is always one fragment).
func groupFragments(frags [][]byte, frames int, ts string, bot []uint32) [][]byte {
	if out := byOffsetTable(frags, frames, bot); out != nil {
		return out
	}
	if len(frags) == frames || ts == tsRLE {
		return frags
	}
	if frames <= 1 {
		return [][]byte{bytes.Join(frags, nil)}
	}
	var out [][]byte
	for _, f := range frags {
		start := len(f) >= 2 && f[0] == 0xFF && (f[1] == 0xD8 || f[1] == 0x4F)
		if jp2 := len(f) >= 8 && string(f[4:8]) == "jP  "; jp2 {
			start = true
		}
		if start || len(out) == 0 {
			out = append(out, append([]byte(nil), f...))
			continue
		}
		out[len(out)-1] = append(out[len(out)-1], f...)
	}
	return out
}

// byOffsetTable groups fragments by the Basic Offset Table: offsets[i] is
// the byte offset of frame i's first fragment item from the first fragment
// item (8 bytes of item header per fragment). nil when the table is absent
// or does not fit the fragments.
func byOffsetTable(frags [][]byte, frames int, bot []uint32) [][]byte {
	if len(bot) == 0 || len(bot) != frames || bot[0] != 0 {
		return nil
	}
	out := make([][]byte, 0, frames)
	pos := uint64(0)
	k := 0
	for i := range bot {
		if uint64(bot[i]) != pos {
			return nil
		}
		end := uint64(math.MaxUint64)
		if i+1 < len(bot) {
			end = uint64(bot[i+1])
		}
		var fr [][]byte
		for k < len(frags) && pos < end {
			fr = append(fr, frags[k])
			pos += 8 + uint64(len(frags[k]))
			k++
		}
		if len(fr) == 0 || (i+1 < len(bot) && pos != end) {
			return nil
		}
		if len(fr) == 1 {
			out = append(out, fr[0])
		} else {
			out = append(out, bytes.Join(fr, nil))
		}
	}
	if k != len(frags) {
		return nil
	}
	return out
}

// nativeFrame returns the samples of frame f as []uint8, []uint16 or []uint32
// and the metadata that describes them.
func (im *Image) nativeFrame(f int) (any, *Meta) {
	m := im.Meta
	if m.BitsAllocated == 1 {
		// Bits packed little-endian first, frames back to back.
		n := im.frameBits
		out := make([]uint8, n)
		base := f * n
		for i := range out {
			bit := base + i
			out[i] = im.raw[bit>>3] >> uint(bit&7) & 1
		}
		mm := *m
		mm.BitsAllocated, mm.BitsStored, mm.HighBit = 8, 1, 0
		return out, &mm
	}
	fb := im.frameBits / 8
	b := im.raw[f*fb : (f+1)*fb]
	if m.Photometric == "YBR_FULL_422" {
		// Y1 Y2 Cb Cr for each pair of pixels: to YBR_FULL, interleaved.
		out := make([]uint8, m.Rows*m.Columns*3)
		for i, o := 0, 0; i+3 < len(b); i, o = i+4, o+6 {
			out[o], out[o+1], out[o+2] = b[i], b[i+2], b[i+3]
			out[o+3], out[o+4], out[o+5] = b[i+1], b[i+2], b[i+3]
		}
		mm := *m
		mm.Photometric, mm.PlanarConfiguration = "YBR_FULL", 0
		return out, &mm
	}
	return samplesFrom(b, m.BitsAllocated, im.bigEndian), m
}

func samplesFrom(b []byte, bits int, bigEndian bool) any {
	var order binary.ByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	switch bits {
	case 8:
		return b
	case 16:
		out := make([]uint16, len(b)/2)
		for i := range out {
			out[i] = order.Uint16(b[2*i:])
		}
		return out
	}
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = order.Uint32(b[4*i:])
	}
	return out
}

// baselineFrame decodes baseline JPEG frame f with image/jpeg into 8-bit
// samples, interleaved. The header's Photometric Interpretation says what
// the components are, not the decoder's guess (it takes three components
// without a JFIF or Adobe marker for YCbCr): RGB components are used as
// they are, YBR_FULL(_422) ones converted.
func (im *Image) baselineFrame(f int) (any, *Meta, error) {
	m := im.Meta
	data := im.enc[f]
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	// The JPEG must be the image the header describes: a tiny file
	// claiming 16384x16384 would otherwise make the decoder allocate
	// hundreds of megabytes.
	if err != nil || cfg.Width != m.Columns || cfg.Height != m.Rows || int64(cfg.Width)*int64(cfg.Height) > maxSamples {
		return nil, nil, fmt.Errorf("%w: JPEG is not the %dx%d image of the header", codec.ErrCorrupt, m.Columns, m.Rows)
	}
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	mm := *m
	mm.BitsAllocated, mm.BitsStored, mm.HighBit, mm.PixelRepresentation, mm.PlanarConfiguration = 8, 8, 7, 0, 0
	w, h := m.Columns, m.Rows
	// A header that names no colour model for three components (or the
	// wrong number of them) leaves the decision to the decoder.
	rgbHeader, ybrHeader := m.Photometric == "RGB", strings.HasPrefix(m.Photometric, "YBR_")
	switch img := src.(type) {
	case *image.Gray:
		out := make([]uint8, w*h)
		for y := 0; y < h; y++ {
			copy(out[y*w:(y+1)*w], img.Pix[y*img.Stride:])
		}
		mm.SamplesPerPixel = 1
		if !strings.HasPrefix(m.Photometric, "MONOCHROME") && m.Photometric != "PALETTE COLOR" {
			mm.Photometric = "MONOCHROME2"
		}
		return out, &mm, nil
	case *image.YCbCr:
		// The decoder left the components as they were coded.
		out := make([]uint8, 3*w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := 3 * (y*w + x)
				out[o] = img.Y[img.YOffset(x, y)]
				ci := img.COffset(x, y)
				out[o+1], out[o+2] = img.Cb[ci], img.Cr[ci]
			}
		}
		mm.SamplesPerPixel, mm.Photometric = 3, "YBR_FULL"
		if rgbHeader {
			mm.Photometric = "RGB"
		}
		return out, &mm, nil
	case *image.RGBA:
		// Adobe transform 0 or components named R, G, B: not converted
		// either.
		out := make([]uint8, 3*w*h)
		for y := 0; y < h; y++ {
			row := img.Pix[y*img.Stride:]
			for x := 0; x < w; x++ {
				o := 3 * (y*w + x)
				out[o], out[o+1], out[o+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
		mm.SamplesPerPixel, mm.Photometric = 3, "RGB"
		if ybrHeader {
			mm.Photometric = "YBR_FULL"
		}
		return out, &mm, nil
	}
	return nil, nil, fmt.Errorf("%w: JPEG colour model %T", codec.ErrCorrupt, src)
}

// decodedFrame decodes encapsulated frame f into samples and the metadata
// that describes them.
func (im *Image) decodedFrame(f int) (any, *Meta, error) {
	m := im.Meta
	src := im.enc[f]
	if m.TransferSyntax == tsJPEGBase {
		return im.baselineFrame(f)
	}
	spp := max(m.SamplesPerPixel, 1)
	mm := *m
	mm.PlanarConfiguration = 0 // every decoder below returns interleaved samples
	var cf *codec.Frame
	var err error
	switch m.TransferSyntax {
	case tsRLE:
		b, err := codec.DecodeRLE(src, m.Rows, m.Columns, spp, m.BitsAllocated)
		if err != nil {
			return nil, nil, err
		}
		return samplesFrom(b, m.BitsAllocated, false), &mm, nil
	case tsJPEGExt, tsJPEGLL14, tsJPEGLLSV1:
		cf, err = codec.DecodeJPEG(src, m.Rows, m.Columns)
		if err == nil && cf.Components != spp {
			err = fmt.Errorf("%w: %d components, header says %d", codec.ErrCorrupt, cf.Components, spp)
		}
		if err == nil && m.TransferSyntax == tsJPEGExt && strings.HasPrefix(m.Photometric, "YBR_FULL") {
			mm.Photometric = "YBR_FULL" // chroma upsampled by the decoder
		}
	case tsJPEGLS, tsJPEGLSNear:
		cf, err = jpegls.Decode(src, m.Rows, m.Columns, spp)
	case tsJ2KLossless, tsJ2K:
		cf, err = jpeg2000.Decode(src, m.Rows, m.Columns, spp)
		if err == nil && spp == 3 {
			mm.Photometric = "RGB" // OpenJPEG undoes the RCT/ICT component transform
		}
		if err == nil && m.TransferSyntax == tsJ2K {
			clampStored(cf, m)
		}
	default:
		return nil, nil, ErrNoPreview
	}
	if err != nil {
		return nil, nil, err
	}
	return cf.Pix, &mm, nil
}

// Render turns one frame into an 8-bit image: modality LUT, VOI window,
// MONOCHROME1 inversion, colour conversion, then a box downscale to Size.
func (im *Image) Render(o Options) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil { // malformed frames must not crash a request
			img, err = nil, fmt.Errorf("%w: render panic: %v", ErrNoPreview, p)
		}
	}()
	if o.Frame < 0 || o.Frame >= im.Frames() {
		return nil, ErrFrame
	}
	m := im.Meta
	rows, cols := m.Rows, m.Columns
	if rows <= 0 || cols <= 0 {
		return nil, ErrNoPreview
	}
	var raw any
	if im.frameBits > 0 {
		raw, m = im.nativeFrame(o.Frame)
	} else {
		raw, m, err = im.decodedFrame(o.Frame)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoPreview, err)
		}
	}
	switch m.SamplesPerPixel {
	case 0, 1:
		if im.palette != nil {
			pix, err := palettePixels(m, im.palette, raw, rows*cols)
			if err != nil {
				return nil, err
			}
			return fitRGBA(&image.RGBA{Pix: pix, Stride: cols * 4, Rect: image.Rect(0, 0, cols, rows)}, o.Size, m.PixelAspect), nil
		}
		pix, err := grayPixels(m, raw, rows*cols, o, im.pixelRange)
		if err != nil {
			return nil, err
		}
		return fitGray(&image.Gray{Pix: pix, Stride: cols, Rect: image.Rect(0, 0, cols, rows)}, o.Size, m.PixelAspect), nil
	case 3:
		pix, err := colorPixels(m, raw, rows*cols)
		if err != nil {
			return nil, err
		}
		return fitRGBA(&image.RGBA{Pix: pix, Stride: cols * 4, Rect: image.Rect(0, 0, cols, rows)}, o.Size, m.PixelAspect), nil
	}
	return nil, ErrNoPreview
}

// Samples returns the stored values of frame f (sign applied, bits above
// BitsStored dropped), samples interleaved: what the decoders produced,
// before any windowing.
func (im *Image) Samples(f int) ([]int, error) {
	if f < 0 || f >= im.Frames() {
		return nil, ErrFrame
	}
	var raw any
	m := im.Meta
	var err error
	switch {
	case im.frameBits > 0:
		raw, m = im.nativeFrame(f)
	default:
		if raw, m, err = im.decodedFrame(f); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoPreview, err)
		}
	}
	var out []int
	switch r := raw.(type) {
	case []uint8:
		d := newStoredDecoder(m, 8)
		for _, v := range r {
			out = append(out, int(d.value(uint32(v))))
		}
	case []uint16:
		d := newStoredDecoder(m, 16)
		for _, v := range r {
			out = append(out, int(d.value(uint32(v))))
		}
	case []uint32:
		d := newStoredDecoder(m, 32)
		for _, v := range r {
			out = append(out, int(d.value(v)))
		}
	}
	return out, nil
}

// clampStored limits lossy samples to the range of BitsStored: a lossy
// codestream coded at 16 bits may overshoot a 12-bit range, and masking
// the high bits would turn a slight overshoot into the opposite extreme.
func clampStored(cf *codec.Frame, m *Meta) {
	bs := m.BitsStored
	if bs <= 0 || bs >= 16 {
		return
	}
	prec := min(max(cf.Precision, 1), 16)
	signed := m.PixelRepresentation == 1
	lo, hi := int32(0), int32(1)<<uint(bs)-1
	if signed {
		lo, hi = -(int32(1) << uint(bs-1)), int32(1)<<uint(bs-1)-1
	}
	mask := int32(1)<<uint(prec) - 1
	for i, u := range cf.Pix {
		v := int32(u)
		if signed && prec < 32 && v&(1<<uint(prec-1)) != 0 {
			v -= 1 << uint(prec)
		}
		cf.Pix[i] = uint16(min(max(v, lo), hi) & mask)
	}
}

// EncodedFrame returns the compressed bytes of encapsulated frame f
// (fragments joined); ok is false for native pixel data.
func (im *Image) EncodedFrame(f int) (b []byte, ok bool) {
	if f < 0 || f >= len(im.enc) {
		return nil, false
	}
	return im.enc[f], true
}
