package gofpdf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
)

// sampleText uses runes past the font's last long horizontal metric (Go
// Regular and Go Mono Bold have glyphs without an advance of their own).
const sampleText = "Łukasik, Zoë Groß-Wójcik — Ørsted, Åse; Ελένη Παπαδοπούλου; Иванов Пётр; ĳ œ € “0123456789” ½ ¾ ©"

// utf8Doc renders text in font as a one-page PDF, the same bytes for the
// same input.
func utf8Doc(font []byte, text string) ([]byte, error) {
	pdf := New("P", "mm", "A4", "")
	pdf.SetCreationDate(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	pdf.SetModificationDate(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	pdf.SetCatalogSort(true)
	pdf.AddUTF8FontFromBytes("f", "", font)
	pdf.SetFont("f", "", 12)
	pdf.AddPage()
	pdf.MultiCell(0, 6, text, "", "L", false)
	var b bytes.Buffer
	err := pdf.Output(&b)
	return b.Bytes(), err
}

// withPadding returns a copy of a TrueType font whose padding after each
// table (to a multiple of 4 bytes) is 0xAA instead of zeros: a document
// that writes its own zero padding into the font bytes then changes them.
func withPadding(t *testing.T, ttf []byte) []byte {
	b := append([]byte(nil), ttf...)
	n := int(binary.BigEndian.Uint16(b[4:]))
	padded := 0
	for i := 0; i < n; i++ {
		e := b[12+16*i:]
		off, size := int(binary.BigEndian.Uint32(e[8:])), int(binary.BigEndian.Uint32(e[12:]))
		for j := off + size; j%4 != 0 && j < len(b); j++ {
			b[j] = 0xAA
			padded++
		}
	}
	if padded == 0 {
		t.Fatal("the font has no padding to mark")
	}
	return b
}

// Documents given the same font bytes, one after the other or at the same
// time, must leave them as they were (getMetrics appended into them; with
// -race the detector saw the write) and render alike.
func TestDocumentsLeaveFontBytesAlone(t *testing.T) {
	for _, orig := range [][]byte{goregular.TTF, gomonobold.TTF, withPadding(t, goregular.TTF)} {
		font := append([]byte(nil), orig...)
		first, err := utf8Doc(font, sampleText)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(font, orig) {
			t.Fatal("a document wrote into the font bytes it was given")
		}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pdf, err := utf8Doc(font, sampleText)
				if err == nil && !bytes.Equal(pdf, first) {
					err = fmt.Errorf("a document rendered in parallel differs from the first")
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
		if !bytes.Equal(font, orig) {
			t.Error("documents rendered in parallel wrote into the font bytes")
		}
	}
}
