package gofpdf

import (
	"bytes"
	"sync"
)

// RadPass: AddUTF8FontFromBytes parsed the whole font file for every
// document (tables, the cmap into two maps, a 65,536-entry width table).
// The result depends only on the font bytes, so it is kept per process for
// a few fonts, keyed by a private copy of the bytes compared in full (never
// by a hash: two fonts that differ in one byte are two entries).
//
// Nothing kept here is written after it is stored: a document gets its own
// utf8FontFile (a copy of the parsed one over the caller's bytes, which
// GenerateCutFont subsets with tables of its own) and shares only what
// gofpdf reads and never writes: CharWidths (fontDefType.Cw) and the
// cutTables.

// maxParsedUTF8Fonts bounds the cache; fonts beyond it are parsed each time.
const maxParsedUTF8Fonts = 8

var parsedUTF8Fonts struct {
	sync.Mutex
	list []*parsedUTF8 // append-only, so a snapshot can be read unlocked
}

type parsedUTF8 struct {
	data []byte       // private copy of the font file, the key
	file utf8FontFile // its parse, without reader or per-document tables
}

// parsedUTF8Font returns a utf8FontFile reading r, with what parseFile
// finds in r's bytes.
func parsedUTF8Font(r *fileReader) (*utf8FontFile, error) {
	if u := lookupParsedUTF8(r); u != nil {
		return u, nil
	}
	u := newUTF8Font(r)
	if err := u.parseFile(); err != nil {
		return nil, err
	}
	keep := *u
	keep.fileReader = nil
	keep.tableDescriptions = nil
	keep.outTablesData = nil
	keep.symbolPosition = nil
	keep.charSymbolDictionary = nil
	keep.symbolData = nil
	keep.CodeSymbolDictionary = nil
	data := append([]byte(nil), r.array...)
	if keep.cutTables = readCutTablesOf(data); keep.cutTables == nil {
		return u, nil // not kept: GenerateCutFont fails on it as before
	}
	parsedUTF8Fonts.Lock()
	defer parsedUTF8Fonts.Unlock()
	if len(parsedUTF8Fonts.list) >= maxParsedUTF8Fonts {
		return u, nil
	}
	for _, p := range parsedUTF8Fonts.list {
		if bytes.Equal(p.data, r.array) {
			return u, nil // another document parsed it meanwhile
		}
	}
	parsedUTF8Fonts.list = append(parsedUTF8Fonts.list, &parsedUTF8{data: data, file: keep})
	return u, nil
}

func lookupParsedUTF8(r *fileReader) *utf8FontFile {
	parsedUTF8Fonts.Lock()
	list := parsedUTF8Fonts.list
	parsedUTF8Fonts.Unlock()
	for _, p := range list {
		if bytes.Equal(p.data, r.array) {
			u := p.file
			u.fileReader = r
			r.readerPosition = 0
			return &u
		}
	}
	return nil
}

// cutTables are the parts of a font GenerateCutFont reads for every subset
// and that depend on the font bytes only. Never written once made.
type cutTables struct {
	charSymbolDictionary map[int]int // rune to glyph
	symbolPosition       []int       // glyph offsets in glyf (loca)
}

// readCutTables reads the cutTables of a font file as GenerateCutFont does,
// with a reader of its own; nil when the font has no Unicode cmap.
func readCutTablesOf(data []byte) *cutTables {
	utf := newUTF8Font(&fileReader{array: data})
	utf.skip(4)
	utf.generateTableDescriptions()
	utf.SeekTable("head")
	utf.skip(50)
	locaFormat := utf.readUint16()
	utf.SeekTable("maxp")
	utf.skip(4)
	numSymbols := utf.readUint16()
	if !utf.readCutTables(locaFormat, numSymbols) {
		return nil
	}
	return &cutTables{charSymbolDictionary: utf.charSymbolDictionary, symbolPosition: utf.symbolPosition}
}
