package gofpdf

import (
	"bytes"
	"io"
	"sync"
)

// RadPass: RegisterImageOptionsReader parsed every image for every
// document; a PNG with an alpha channel was inflated, split into colour
// and alpha and both deflated again (about 100 ms for a 2000×700 logo, on
// every letter of its department). A parsed PNG or JPEG depends only on its
// bytes, ReadDpi and the document's scale, so the parse (with its ID) is
// kept per process for a few images, keyed by the full bytes (never by a
// hash), most recently used first. A document gets a copy of the parsed
// ImageInfoType; the byte slices in it are shared and only read (putstream
// encrypts a copy when the document is protected).

const (
	maxParsedImages     = 16
	maxParsedImageBytes = 32 << 20 // source and parsed data of all kept images
	maxParsedImageSize  = 8 << 20  // a larger image is parsed every time
)

var parsedImages struct {
	sync.Mutex
	list  []*parsedImage // most recently used first
	bytes int
}

type parsedImage struct {
	tp      string
	readDpi bool
	scale   float64
	src     []byte        // the image file, the key
	info    ImageInfoType // its parse, with its ID; never written
	size    int
}

// parseImageCached parses a "jpg" or "png" image read from r as parsejpg
// and parsepng do, and sets its ID.
func (f *Fpdf) parseImageCached(tp string, readDpi bool, r io.Reader) (info *ImageInfoType) {
	buf, err := bufferFromReader(r)
	if err != nil {
		f.err = err
		return nil
	}
	src := buf.Bytes() // our own copy of the reader's bytes
	if info = lookupParsedImage(tp, readDpi, f.k, src); info != nil {
		// The one thing parsing does to the document: an alpha channel
		// (soft mask) needs PDF 1.4, as in parsepngstream.
		if len(info.smask) > 0 && f.pdfVersion < "1.4" {
			f.pdfVersion = "1.4"
		}
		return info
	}
	if tp == "jpg" {
		info = f.parsejpg(bytes.NewReader(src))
	} else {
		info = f.parsepngstream(bytes.NewBuffer(src), readDpi)
	}
	if f.err != nil {
		return
	}
	if info.i, f.err = generateImageID(info); f.err != nil {
		return
	}
	keepParsedImage(&parsedImage{tp: tp, readDpi: readDpi, scale: f.k, src: src, info: *info,
		size: len(src) + len(info.data) + len(info.smask) + len(info.pal)})
	return info
}

func lookupParsedImage(tp string, readDpi bool, scale float64, src []byte) *ImageInfoType {
	parsedImages.Lock()
	defer parsedImages.Unlock()
	l := parsedImages.list
	for i, p := range l {
		if p.tp == tp && p.readDpi == readDpi && p.scale == scale && bytes.Equal(p.src, src) {
			copy(l[1:i+1], l[:i])
			l[0] = p
			info := p.info
			return &info
		}
	}
	return nil
}

func keepParsedImage(p *parsedImage) {
	if p.size > maxParsedImageSize {
		return
	}
	parsedImages.Lock()
	defer parsedImages.Unlock()
	for _, q := range parsedImages.list {
		if q.tp == p.tp && q.readDpi == p.readDpi && q.scale == p.scale && bytes.Equal(q.src, p.src) {
			return // another document parsed it meanwhile
		}
	}
	parsedImages.list = append([]*parsedImage{p}, parsedImages.list...)
	parsedImages.bytes += p.size
	for len(parsedImages.list) > maxParsedImages || parsedImages.bytes > maxParsedImageBytes {
		last := len(parsedImages.list) - 1
		parsedImages.bytes -= parsedImages.list[last].size
		parsedImages.list[last] = nil
		parsedImages.list = parsedImages.list[:last]
	}
}
