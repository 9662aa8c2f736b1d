package gofpdf

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
)

// clearParsedUTF8Fonts empties the per-process font cache.
func clearParsedUTF8Fonts() {
	parsedUTF8Fonts.Lock()
	parsedUTF8Fonts.list = nil
	parsedUTF8Fonts.Unlock()
}

func parsedUTF8FontCount() int {
	parsedUTF8Fonts.Lock()
	defer parsedUTF8Fonts.Unlock()
	return len(parsedUTF8Fonts.list)
}

// A font is parsed once per process: a document that finds it parsed must
// be the document that parsed it, also when many start at once (-race), and
// its subset must draw every glyph as the font does.
func TestParsedFontGivesTheSameDocument(t *testing.T) {
	for _, orig := range [][]byte{goregular.TTF, gomonobold.TTF} {
		clearParsedUTF8Fonts()
		cold, err := utf8Doc(append([]byte(nil), orig...), sampleText)
		if err != nil {
			t.Fatal(err)
		}
		if n := parsedUTF8FontCount(); n != 1 {
			t.Fatalf("%d fonts kept after one document, want 1", n)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each document has its own copy: the cache is keyed by content.
				pdf, err := utf8Doc(append([]byte(nil), orig...), sampleText)
				if err == nil && !bytes.Equal(pdf, cold) {
					err = fmt.Errorf("a document with the font already parsed differs from the first")
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := parsedUTF8FontCount(); n != 1 {
			t.Errorf("%d fonts kept for one font, want 1", n)
		}

		u, err := parsedUTF8Font(&fileReader{array: append([]byte(nil), orig...)})
		if err != nil {
			t.Fatal(err)
		}
		if u.cutTables == nil {
			t.Fatal("the font did not come from the cache")
		}
		checkSubset(t, orig, u.GenerateCutFont(usedRunes(sampleText)), sampleText)
	}
}

// The cache keeps its own copy of the bytes: the caller may reuse its
// buffer, and a font that differs in one byte is another font.
func TestParsedFontKeyedByItsOwnCopy(t *testing.T) {
	clearParsedUTF8Fonts()
	buf := append([]byte(nil), goregular.TTF...)
	want, err := utf8Doc(buf, sampleText)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, gomonobold.TTF[:len(buf)/2]) // the caller reuses its buffer
	got, err := utf8Doc(append([]byte(nil), goregular.TTF...), sampleText)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("changing the caller's buffer changed the parsed font")
	}

	other := append(append([]byte(nil), goregular.TTF...), 0) // one byte more
	if _, err := utf8Doc(other, sampleText); err != nil {
		t.Fatal(err)
	}
	if n := parsedUTF8FontCount(); n != 2 {
		t.Errorf("%d fonts kept for two fonts, want 2", n)
	}
}

// At most maxParsedUTF8Fonts fonts are kept; the others are parsed each time
// and render as well.
func TestParsedFontsBounded(t *testing.T) {
	clearParsedUTF8Fonts()
	want, err := utf8Doc(append([]byte(nil), goregular.TTF...), sampleText)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < maxParsedUTF8Fonts+2; i++ {
		font := append(append([]byte(nil), goregular.TTF...), make([]byte, i+1)...)
		got, err := utf8Doc(font, sampleText)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("font %d (trailing zeros) renders differently", i)
		}
	}
	if n := parsedUTF8FontCount(); n != maxParsedUTF8Fonts {
		t.Errorf("%d fonts kept, want %d", n, maxParsedUTF8Fonts)
	}
}
