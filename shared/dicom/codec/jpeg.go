package codec

import (
	"math"
)

// Frame is a decoded JPEG frame: samples interleaved (Components per
// pixel), each the component value as coded (no colour conversion).
type Frame struct {
	Width, Height, Components, Precision int
	Pix                                  []uint16
}

type component struct {
	id, h, v, tq int
	td, ta       int // table selectors of the current scan
	pred         int // DC predictor (DCT)
	bw, bh       int // size in blocks (DCT) of the component plane
	plane        []uint16
}

type huffman struct {
	lut     [1 << lutBits]uint16 // value<<8 | code length; 0: not in the table
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []byte
	ok      bool
}

const lutBits = 9

func (h *huffman) build(counts []byte, vals []byte) error {
	*h = huffman{vals: append([]byte(nil), vals...), ok: true}
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		n := int32(counts[l-1])
		h.valptr[l] = k
		h.mincode[l] = code
		if n == 0 {
			h.maxcode[l] = -1
		} else {
			for i := int32(0); i < n; i++ {
				if l <= lutBits {
					c := code + i
					lo := int(c) << (lutBits - l)
					hi := int(c+1) << (lutBits - l)
					if hi > len(h.lut) {
						return corrupt("jpeg: bad huffman table")
					}
					for j := lo; j < hi; j++ {
						h.lut[j] = uint16(vals[k+i])<<8 | uint16(l)
					}
				}
			}
			code += n
			k += n
			h.maxcode[l] = code - 1
		}
		if code > 1<<uint(l) {
			return corrupt("jpeg: bad huffman table")
		}
		code <<= 1
	}
	h.maxcode[17] = math.MaxInt32
	return nil
}

// bitReader reads entropy-coded bits, removing stuffed zero bytes and
// stopping (feeding zeros) at a marker.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // left aligned
	n      uint
	marker bool
	padded int
}

func (b *bitReader) fill() {
	for b.n <= 56 {
		if b.marker || b.pos >= len(b.data) {
			b.marker = true
			b.padded++
			b.n += 8
			continue
		}
		c := b.data[b.pos]
		if c == 0xFF {
			if b.pos+1 < len(b.data) && b.data[b.pos+1] == 0 {
				b.pos += 2
			} else {
				b.marker = true
				continue
			}
		} else {
			b.pos++
		}
		b.acc |= uint64(c) << (56 - b.n)
		b.n += 8
	}
}

func (b *bitReader) bits(k uint) int32 {
	if k == 0 {
		return 0
	}
	if b.n < k {
		b.fill()
	}
	v := int32(b.acc >> (64 - k))
	b.acc <<= k
	b.n -= k
	return v
}

func (b *bitReader) decode(h *huffman) (int, error) {
	if b.n < 16 {
		b.fill()
	}
	if e := h.lut[b.acc>>(64-lutBits)]; e != 0 {
		l := uint(e & 0xFF)
		b.acc <<= l
		b.n -= l
		return int(e >> 8), nil
	}
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | int32(b.acc>>63)
		b.acc <<= 1
		b.n--
		if h.maxcode[l] >= 0 && code <= h.maxcode[l] && code >= h.mincode[l] {
			i := h.valptr[l] + code - h.mincode[l]
			if int(i) >= len(h.vals) {
				return 0, corrupt("jpeg: huffman value out of range")
			}
			return int(h.vals[i]), nil
		}
	}
	return 0, corrupt("jpeg: bad huffman code")
}

func (b *bitReader) overrun() bool { return b.padded > 16 }

// restart skips to after the next RSTn marker and resets the bit buffer.
func (b *bitReader) restart() error {
	b.acc, b.n, b.marker, b.padded = 0, 0, false, 0
	for b.pos+1 < len(b.data) {
		if b.data[b.pos] == 0xFF && b.data[b.pos+1] >= 0xD0 && b.data[b.pos+1] <= 0xD7 {
			b.pos += 2
			return nil
		}
		b.pos++
	}
	return corrupt("jpeg: missing restart marker")
}

func extend(v int32, t uint) int32 {
	if t == 0 {
		return 0
	}
	if v < 1<<(t-1) {
		return v - (1 << t) + 1
	}
	return v
}

type decoder struct {
	src              []byte
	sof              byte
	precision        int
	width, height    int
	comps            []component
	hmax, vmax       int
	dc, ac           [4]huffman
	quant            [4][64]int32
	ri               int
	wantRows, wantCo int
}

// DecodeJPEG decodes one JPEG frame (lossless process 14, or sequential
// DCT, 8 or 12 bits, Huffman coded) whose header must say rows x cols.
func DecodeJPEG(src []byte, rows, cols int) (f *Frame, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, corrupt("jpeg: %v", p)
		}
	}()
	d := &decoder{src: src, wantRows: rows, wantCo: cols}
	return d.run()
}

func (d *decoder) u16(p int) int { return int(d.src[p])<<8 | int(d.src[p+1]) }

func (d *decoder) run() (*Frame, error) {
	s := d.src
	p := 0
	// The first marker must be SOI (some files carry padding before it).
	for p+1 < len(s) && !(s[p] == 0xFF && s[p+1] == 0xD8) {
		p++
		if p > 64 {
			return nil, corrupt("jpeg: no SOI")
		}
	}
	if p+1 >= len(s) {
		return nil, corrupt("jpeg: no SOI")
	}
	p += 2
	scans := 0
	for {
		for p < len(s) && s[p] != 0xFF {
			p++ // tolerate junk between segments
		}
		for p < len(s) && s[p] == 0xFF {
			p++
		}
		if p >= len(s) {
			break
		}
		m := s[p]
		p++
		if m == 0xD9 { // EOI
			break
		}
		if m >= 0xD0 && m <= 0xD7 || m == 0x01 {
			continue
		}
		if p+2 > len(s) {
			return nil, corrupt("jpeg: truncated segment")
		}
		l := d.u16(p)
		if l < 2 || p+l > len(s) {
			return nil, corrupt("jpeg: segment length")
		}
		seg := s[p+2 : p+l]
		switch {
		case m == 0xC0 || m == 0xC1 || m == 0xC3:
			if d.sof != 0 {
				return nil, corrupt("jpeg: two frames")
			}
			if err := d.readSOF(m, seg); err != nil {
				return nil, err
			}
		case m == 0xC2 || (m >= 0xC5 && m <= 0xCF && m != 0xC8 && m != 0xCC):
			return nil, corrupt("jpeg: unsupported process (SOF%d)", m-0xC0)
		case m == 0xC4:
			if err := d.readDHT(seg); err != nil {
				return nil, err
			}
		case m == 0xDB:
			if err := d.readDQT(seg); err != nil {
				return nil, err
			}
		case m == 0xDD:
			if len(seg) < 2 {
				return nil, corrupt("jpeg: DRI")
			}
			d.ri = int(seg[0])<<8 | int(seg[1])
		case m == 0xDA:
			if d.sof == 0 {
				return nil, corrupt("jpeg: scan before frame header")
			}
			if scans >= len(d.comps) {
				// Sequential and lossless frames have at most one scan per
				// component: more is a stream built to burn CPU.
				return nil, corrupt("jpeg: more scans than components")
			}
			end, err := d.readScan(seg, p+l)
			if err != nil {
				return nil, err
			}
			scans++
			l = end - p
		}
		p += l
	}
	if d.sof == 0 || scans == 0 {
		return nil, corrupt("jpeg: no image")
	}
	return d.output(), nil
}

func (d *decoder) readSOF(m byte, seg []byte) error {
	if len(seg) < 6 {
		return corrupt("jpeg: SOF")
	}
	d.sof = m
	d.precision = int(seg[0])
	d.height = int(seg[1])<<8 | int(seg[2])
	d.width = int(seg[3])<<8 | int(seg[4])
	nf := int(seg[5])
	switch {
	case m == 0xC3 && (d.precision < 2 || d.precision > 16):
		return corrupt("jpeg: lossless precision %d", d.precision)
	case m != 0xC3 && d.precision != 8 && d.precision != 12:
		return corrupt("jpeg: DCT precision %d", d.precision)
	case d.width != d.wantCo || d.height != d.wantRows:
		return corrupt("jpeg: %dx%d, header says %dx%d", d.width, d.height, d.wantCo, d.wantRows)
	case nf != 1 && nf != 3 && nf != 4:
		return corrupt("jpeg: %d components", nf)
	case len(seg) < 6+3*nf:
		return corrupt("jpeg: SOF")
	case int64(d.width)*int64(d.height) > MaxPixels || d.width == 0 || d.height == 0:
		return corrupt("jpeg: size %dx%d", d.width, d.height)
	}
	d.hmax, d.vmax = 1, 1
	for i := 0; i < nf; i++ {
		c := component{id: int(seg[6+3*i]), h: int(seg[7+3*i] >> 4), v: int(seg[7+3*i] & 15), tq: int(seg[8+3*i])}
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return corrupt("jpeg: component sampling")
		}
		if m == 0xC3 && (c.h != 1 || c.v != 1) {
			return corrupt("jpeg: subsampled lossless")
		}
		d.hmax, d.vmax = max(d.hmax, c.h), max(d.vmax, c.v)
		d.comps = append(d.comps, c)
	}
	mcux := (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	mcuy := (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := range d.comps {
		c := &d.comps[i]
		if m == 0xC3 {
			c.plane = make([]uint16, d.width*d.height)
			continue
		}
		c.bw, c.bh = mcux*c.h, mcuy*c.v
		c.plane = make([]uint16, c.bw*8*c.bh*8)
	}
	return nil
}

func (d *decoder) readDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return corrupt("jpeg: DHT")
		}
		class, id := seg[0]>>4, seg[0]&15
		if class > 1 || id > 3 {
			return corrupt("jpeg: DHT table id")
		}
		total := 0
		for _, c := range seg[1:17] {
			total += int(c)
		}
		if total > 256 || len(seg) < 17+total {
			return corrupt("jpeg: DHT")
		}
		t := &d.dc[id]
		if class == 1 {
			t = &d.ac[id]
		}
		if err := t.build(seg[1:17], seg[17:17+total]); err != nil {
			return err
		}
		seg = seg[17+total:]
	}
	return nil
}

func (d *decoder) readDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, id := seg[0]>>4, seg[0]&15
		if id > 3 || pq > 1 {
			return corrupt("jpeg: DQT")
		}
		n := 64 * (int(pq) + 1)
		if len(seg) < 1+n {
			return corrupt("jpeg: DQT")
		}
		for k := 0; k < 64; k++ {
			if pq == 0 {
				d.quant[id][k] = int32(seg[1+k])
			} else {
				d.quant[id][k] = int32(seg[1+2*k])<<8 | int32(seg[2+2*k])
			}
		}
		seg = seg[1+n:]
	}
	return nil
}

// readScan decodes the entropy-coded data after the SOS header at data and
// returns where the next marker starts.
func (d *decoder) readScan(seg []byte, data int) (int, error) {
	if len(seg) < 1 {
		return 0, corrupt("jpeg: SOS")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.comps) || len(seg) < 1+2*ns+3 {
		return 0, corrupt("jpeg: SOS")
	}
	var sc []*component
	for i := 0; i < ns; i++ {
		id := int(seg[1+2*i])
		var c *component
		for j := range d.comps {
			if d.comps[j].id == id {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return 0, corrupt("jpeg: scan component %d", id)
		}
		c.td, c.ta = int(seg[2+2*i]>>4), int(seg[2+2*i]&15)
		if c.td > 3 || c.ta > 3 || !d.dc[c.td].ok || (d.sof != 0xC3 && !d.ac[c.ta].ok) {
			return 0, corrupt("jpeg: scan uses a missing huffman table")
		}
		sc = append(sc, c)
	}
	ss, al := int(seg[1+2*ns]), int(seg[3+2*ns]&15)
	br := &bitReader{data: d.src, pos: data}
	var err error
	if d.sof == 0xC3 {
		err = d.losslessScan(br, sc, ss, al)
	} else {
		err = d.dctScan(br, sc)
	}
	if err != nil {
		return 0, err
	}
	// Resume at the marker that ended the entropy-coded data.
	p := br.pos
	for p+1 < len(d.src) && !(d.src[p] == 0xFF && d.src[p+1] != 0 && (d.src[p+1] < 0xD0 || d.src[p+1] > 0xD7)) {
		p++
	}
	return p, nil
}

func (d *decoder) losslessScan(br *bitReader, sc []*component, pred, pt int) error {
	if pred > 7 || pt >= d.precision {
		return corrupt("jpeg: predictor %d, point transform %d", pred, pt)
	}
	w, h := d.width, d.height
	initial := int32(1) << uint(d.precision-pt-1)
	mcus := 0
	firstLine := true // first line of the image or of a restart interval
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if d.ri > 0 && mcus > 0 && mcus%d.ri == 0 {
				if err := br.restart(); err != nil {
					return err
				}
				firstLine = true
				for _, c := range sc {
					c.pred = -1 // marks "first sample of the interval"
				}
			}
			mcus++
			i := y*w + x
			for _, c := range sc {
				t, err := br.decode(&d.dc[c.td])
				if err != nil {
					return err
				}
				var diff int32
				switch {
				case t == 16:
					diff = 32768
				case t > 16:
					return corrupt("jpeg: difference category %d", t)
				default:
					diff = extend(br.bits(uint(t)), uint(t))
				}
				pl := c.plane
				var px int32
				switch {
				case (y == 0 && x == 0) || c.pred == -1:
					px = initial
					c.pred = 0
				case firstLine:
					px = int32(pl[i-1])
				case x == 0:
					px = int32(pl[i-w])
				default:
					ra, rb, rc := int32(pl[i-1]), int32(pl[i-w]), int32(pl[i-w-1])
					switch pred {
					case 0, 1:
						px = ra
					case 2:
						px = rb
					case 3:
						px = rc
					case 4:
						px = ra + rb - rc
					case 5:
						px = ra + (rb-rc)>>1
					case 6:
						px = rb + (ra-rc)>>1
					case 7:
						px = (ra + rb) >> 1
					}
				}
				pl[i] = uint16(px + diff)
			}
		}
		if firstLine && y >= 0 {
			firstLine = false
		}
		if br.overrun() {
			return corrupt("jpeg: entropy-coded data ends early")
		}
	}
	if pt > 0 {
		for _, c := range sc {
			for i := range c.plane {
				c.plane[i] <<= uint(pt)
			}
		}
	}
	return nil
}

var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

var idctCos = func() (t [8][8]float64) {
	for x := 0; x < 8; x++ {
		for u := 0; u < 8; u++ {
			c := 1.0
			if u == 0 {
				c = 1 / math.Sqrt2
			}
			t[x][u] = c / 2 * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16)
		}
	}
	return
}()

func (d *decoder) dctScan(br *bitReader, sc []*component) error {
	var mcuw, mcuh int
	if len(sc) == 1 {
		c := sc[0]
		// Non-interleaved: the blocks of this component that cover the image.
		cw := (d.width*c.h + d.hmax - 1) / d.hmax
		chh := (d.height*c.v + d.vmax - 1) / d.vmax
		mcuw, mcuh = (cw+7)/8, (chh+7)/8
	} else {
		mcuw = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
		mcuh = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	}
	for _, c := range sc {
		c.pred = 0
	}
	var blk [64]int32
	mcus := 0
	for my := 0; my < mcuh; my++ {
		for mx := 0; mx < mcuw; mx++ {
			if d.ri > 0 && mcus > 0 && mcus%d.ri == 0 {
				if err := br.restart(); err != nil {
					return err
				}
				for _, c := range sc {
					c.pred = 0
				}
			}
			mcus++
			for _, c := range sc {
				bh, bv := c.h, c.v
				if len(sc) == 1 {
					bh, bv = 1, 1
				}
				for by := 0; by < bv; by++ {
					for bx := 0; bx < bh; bx++ {
						if err := d.block(br, c, &blk); err != nil {
							return err
						}
						d.idct(c, &blk, mx*bh+bx, my*bv+by)
					}
				}
			}
			if br.overrun() {
				return corrupt("jpeg: entropy-coded data ends early")
			}
		}
	}
	return nil
}

func (d *decoder) block(br *bitReader, c *component, blk *[64]int32) error {
	*blk = [64]int32{}
	q := &d.quant[c.tq]
	t, err := br.decode(&d.dc[c.td])
	if err != nil {
		return err
	}
	if t > 16 {
		return corrupt("jpeg: DC category %d", t)
	}
	c.pred += int(extend(br.bits(uint(t)), uint(t)))
	blk[0] = int32(c.pred) * q[0]
	for k := 1; k < 64; {
		rs, err := br.decode(&d.ac[c.ta])
		if err != nil {
			return err
		}
		r, s := rs>>4, rs&15
		if s == 0 {
			if r != 15 {
				break
			}
			k += 16
			continue
		}
		k += r
		if k > 63 {
			return corrupt("jpeg: AC index")
		}
		blk[zigzag[k]] = extend(br.bits(uint(s)), uint(s)) * q[k]
		k++
	}
	return nil
}

// idct writes the inverse DCT of blk, level shifted and clamped, as block
// (bx, by) of the component plane; blocks outside the plane are dropped.
func (d *decoder) idct(c *component, blk *[64]int32, bx, by int) {
	if bx >= c.bw || by >= c.bh {
		return
	}
	var tmp [64]float64
	for y := 0; y < 8; y++ { // rows: over u
		for x := 0; x < 8; x++ {
			s := 0.0
			for u := 0; u < 8; u++ {
				if v := blk[y*8+u]; v != 0 {
					s += idctCos[x][u] * float64(v)
				}
			}
			tmp[y*8+x] = s
		}
	}
	shift := float64(int(1) << uint(d.precision-1))
	maxv := float64(int(1)<<uint(d.precision) - 1)
	stride := c.bw * 8
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			s := 0.0
			for v := 0; v < 8; v++ {
				s += idctCos[y][v] * tmp[v*8+x]
			}
			s = math.Round(s + shift)
			if s < 0 {
				s = 0
			} else if s > maxv {
				s = maxv
			}
			c.plane[(by*8+y)*stride+bx*8+x] = uint16(s)
		}
	}
}

func (d *decoder) output() *Frame {
	n := len(d.comps)
	f := &Frame{Width: d.width, Height: d.height, Components: n, Precision: d.precision, Pix: make([]uint16, d.width*d.height*n)}
	for ci := range d.comps {
		c := &d.comps[ci]
		if d.sof == 0xC3 {
			for i, v := range c.plane {
				f.Pix[i*n+ci] = v
			}
			continue
		}
		stride := c.bw * 8
		for y := 0; y < d.height; y++ {
			sy := y * c.v / d.vmax
			row := c.plane[sy*stride:]
			for x := 0; x < d.width; x++ {
				f.Pix[(y*d.width+x)*n+ci] = row[x*c.h/d.hmax]
			}
		}
	}
	return f
}
