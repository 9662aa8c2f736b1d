package gofpdf

import (
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// checkSubset says whether the font subset cut from orig draws every rune of
// text orig has with the same advance and outline.
func checkSubset(t *testing.T, orig, cut []byte, text string) {
	t.Helper()
	of, err := sfnt.Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := sfnt.Parse(cut)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	ppem := fixed.Int26_6(of.UnitsPerEm()) << 6
	var ob, cb sfnt.Buffer
	checked := 0
	for _, r := range text {
		og, err := of.GlyphIndex(&ob, r)
		if err != nil || og == 0 {
			continue // not in the font: nothing to keep
		}
		cg, err := cf.GlyphIndex(&cb, r)
		if err != nil || cg == 0 {
			t.Errorf("%q is missing from the subset (%v)", r, err)
			continue
		}
		oa, err1 := of.GlyphAdvance(&ob, og, ppem, font.HintingNone)
		ca, err2 := cf.GlyphAdvance(&cb, cg, ppem, font.HintingNone)
		if err1 != nil || err2 != nil || oa != ca {
			t.Errorf("%q: advance %v in the subset, %v in the font (%v, %v)", r, ca, oa, err1, err2)
		}
		os, err1 := of.LoadGlyph(&ob, og, ppem, nil)
		cs, err2 := cf.LoadGlyph(&cb, cg, ppem, nil)
		if err1 != nil || err2 != nil || len(os) != len(cs) {
			t.Errorf("%q: outline of %d segments in the subset, %d in the font (%v, %v)", r, len(cs), len(os), err1, err2)
			continue
		}
		for i := range os {
			if os[i] != cs[i] {
				t.Errorf("%q: outline differs at segment %d", r, i)
				break
			}
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d runes checked", checked)
	}
}

func usedRunes(text string) map[int]int {
	used := map[int]int{0: 0}
	for _, r := range text {
		used[int(r)] = int(r)
	}
	return used
}

// GenerateCutFont no longer rebuilds the width table: the subset must still
// carry every used glyph with its own advance and outline.
func TestSubsetKeepsGlyphsAndAdvances(t *testing.T) {
	for _, orig := range [][]byte{goregular.TTF, gomonobold.TTF} {
		u := newUTF8Font(&fileReader{array: append([]byte(nil), orig...)})
		if err := u.parseFile(); err != nil {
			t.Fatal(err)
		}
		checkSubset(t, orig, u.GenerateCutFont(usedRunes(sampleText)), sampleText)
	}
}
