package letter

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/johnfercher/maroto/v2/pkg/consts/fontstyle"
	"github.com/johnfercher/maroto/v2/pkg/core/entity"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// Two fonts only: each embedded font costs about 1 ms per letter (subsetting
// and compressing it; the patched gofpdf in third_party parses a font once
// per process), and the PDF must stay under 10 ms. Headings stand out by
// size and colour instead of a bold face; the reference number is Go Mono
// Bold.
const (
	fontSans = "go"
	fontMono = "gomonobold"
)

// letterFonts are the fonts of a letter, over the font bytes x/image ships
// (goregular.TTF, gomonobold.TTF), shared by every letter without a copy:
// gofpdf never writes into the font bytes it is given (patch 0004 of
// third_party/gofpdf-patches); TestParallelLettersMatchSequential fails if
// it did.
func letterFonts() []*entity.CustomFont {
	return []*entity.CustomFont{
		{Family: fontSans, Style: fontstyle.Normal, Bytes: goregular.TTF},
		{Family: fontMono, Style: fontstyle.Normal, Bytes: gomonobold.TTF},
	}
}

// replacement is what SafeText puts for an unprintable character: U+FFFD
// when the letter font has it, else '?'.
var replacement = sync.OnceValue(func() rune {
	if printableTable()[0xFFFD/64]&(1<<(0xFFFD%64)) != 0 {
		return '\uFFFD'
	}
	return '?'
})

// printableTable is a bit per BMP code point that Go Regular (the font of
// every text of the letter but the reference number) has a glyph for.
// gofpdf reads only the BMP part of a font (its width table ends at
// U+FFFF), so nothing above it can ever print.
var printableTable = sync.OnceValue(func() *[65536 / 64]uint64 {
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		panic("letter: Go Regular does not parse: " + err.Error())
	}
	var t [65536 / 64]uint64
	var buf sfnt.Buffer
	for r := rune(0); r <= 0xFFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue // surrogates are not characters
		}
		if g, err := f.GlyphIndex(&buf, r); err == nil && g != 0 {
			t[r/64] |= 1 << (r % 64)
		}
	}
	return &t
})

// Printable says whether r prints on the letter as itself. Tab, line feed
// and carriage return count as printable: Render turns them into spaces and
// line breaks (a message may have several lines).
func Printable(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return true
	}
	if r < 0 || r > 0xFFFF || unicode.IsControl(r) {
		return false
	}
	return printableTable()[r/64]&(1<<(r%64)) != 0
}

// CheckPrintable reports the first character of s that the letter cannot
// print (above U+FFFF like 😀 or 𝐀, not in the letter font, a control
// character, or invalid UTF-8, reported as U+FFFD), or ok when all print.
func CheckPrintable(s string) (bad rune, ok bool) {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return r, false // invalid UTF-8
			}
		}
		if !Printable(r) {
			return r, false
		}
	}
	return 0, true
}

// UnprintableError names the first character a text for the letter cannot
// print with; handlers show it on the field ("“😀” cannot be printed on the
// letter").
type UnprintableError struct{ Rune rune }

func (e *UnprintableError) Error() string {
	return fmt.Sprintf("letter: %q (%U) cannot be printed", e.Rune, e.Rune)
}

// Check is CheckPrintable as an error: nil, or an *UnprintableError.
func Check(s string) error {
	if r, ok := CheckPrintable(s); !ok {
		return &UnprintableError{Rune: r}
	}
	return nil
}

// SafeText returns s with every character the letter cannot print replaced:
// by its nearest printable form when it has one (Vietnamese "ễ" becomes
// "ê", the mathematical "𝐀" becomes "A": compatibility decomposition, then
// as many of its accents as the font has), else by U+FFFD (or '?' if the
// font lacked it). Printable text is returned as is.
func SafeText(s string) string {
	if _, ok := CheckPrintable(s); ok {
		return s
	}
	rep := replacement()
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				b.WriteRune(rep)
				continue
			}
		}
		switch {
		case Printable(r):
			b.WriteRune(r)
		case nearest(r) != "":
			b.WriteString(nearest(r))
		default:
			b.WriteRune(rep)
		}
	}
	return b.String()
}

// nearest is the printable approximation of r that SafeText uses, or "".
// It decomposes r (NFKD: base letter, then accents) and recomposes the
// longest prefix the font can print.
func nearest(r rune) string {
	d := []rune(norm.NFKD.String(string(r)))
	for n := len(d); n >= 1; n-- {
		c := norm.NFC.String(string(d[:n]))
		if c == string(r) {
			continue
		}
		if _, ok := CheckPrintable(c); ok {
			return c
		}
	}
	return ""
}

// lineText is SafeText for one printed line: tabs and line breaks become
// spaces (Render splits a message into lines before this).
func lineText(s string) string {
	s = SafeText(s)
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case '\t', '\n', '\r':
				return ' '
			}
			return r
		}, s)
	}
	return s
}

// UnprintableKey is the message for a field whose text the letter cannot
// print; its argument "Char" is CharLabel of the character, e.g.
// p.AddError("message", letter.UnprintableKey, "Char", letter.CharLabel(r)).
const UnprintableKey = "letterfix.unprintable"

// CharLabel shows a character in an error message: itself when it is
// visible, else its code point ("U+0007").
func CharLabel(r rune) string {
	if unicode.IsGraphic(r) && r != utf8.RuneError {
		return string(r)
	}
	return fmt.Sprintf("U+%04X", r)
}
