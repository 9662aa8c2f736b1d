package gofpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io/ioutil"
	"regexp"
	"strconv"
	"testing"

	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
)

// pdfStream returns the inflated stream of object n of an unencrypted PDF.
func pdfStream(t *testing.T, pdf []byte, n int) []byte {
	t.Helper()
	i := bytes.Index(pdf, []byte(fmt.Sprintf("\n%d 0 obj\n", n)))
	if i < 0 {
		t.Fatalf("no object %d", n)
	}
	obj := pdf[i:]
	s := bytes.Index(obj, []byte("stream\n"))
	e := bytes.Index(obj, []byte("\nendstream"))
	if s < 0 || e < s {
		t.Fatalf("object %d has no stream", n)
	}
	r, err := zlib.NewReader(bytes.NewReader(obj[s+len("stream\n") : e]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ioutil.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The CIDToGIDMap ends at the last rune the document uses: each used rune
// the font has maps to a glyph of its own, every other CID to glyph 0 (as in
// upstream's map of all 65,536 CIDs, whose tail past the last rune was
// zeros).
func TestCIDToGIDMapEndsAtLastRune(t *testing.T) {
	text := sampleText + " 王" // U+738B: used, but not in Go Regular
	pdf, err := utf8Doc(append([]byte(nil), goregular.TTF...), text)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`/CIDToGIDMap (\d+) 0 R`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no CIDToGIDMap")
	}
	n, _ := strconv.Atoi(string(m[1]))
	cmap := pdfStream(t, pdf, n)
	if len(cmap) != 2*(0x738B+1) {
		t.Fatalf("CIDToGIDMap of %d bytes, want %d (up to U+738B)", len(cmap), 2*(0x738B+1))
	}

	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	want := map[int]bool{} // the CIDs that map to a glyph
	for _, r := range text {
		if g, err := f.GlyphIndex(&buf, r); err == nil && g != 0 {
			want[int(r)] = true
		}
	}
	glyphs := map[int]int{}
	for cid := 0; cid < len(cmap)/2; cid++ {
		g := int(cmap[2*cid])<<8 | int(cmap[2*cid+1])
		switch {
		case want[cid] && g == 0:
			t.Errorf("%q maps to no glyph", rune(cid))
		case !want[cid] && g != 0:
			t.Errorf("CID %U, not used or not in the font, maps to glyph %d", cid, g)
		case g != 0:
			if prev, ok := glyphs[g]; ok {
				t.Errorf("%q and %q map to the same glyph %d", rune(prev), rune(cid), g)
			}
			glyphs[g] = cid
		}
	}
	if len(glyphs) < 20 {
		t.Fatalf("only %d CIDs map to glyphs", len(glyphs))
	}
}
