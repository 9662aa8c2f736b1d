package deid

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	rd "github.com/radpass/radpass/shared/dicom"
	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
	"github.com/suyashkumar/dicom/pkg/uid"
)

// Read parses one DICOM Part 10 file of size bytes from r for Apply.
// Pixel data is kept as parsed, without decoding: native pixel bytes stay
// identical; encapsulated fragments stay identical and the basic offset
// table is written back empty (the library does not keep it; an empty
// table is valid, PS3.5 A.4). A deflated file is marked explicit VR little
// endian (the same data set, uncompressed): the library cannot write deflate.
//
// Read trusts the element lengths of the file (the library allocates what
// a header claims); ReadAt checks them first and is the one to use on
// stored files. Read refuses at least a stream without the DICM prefix.
func Read(r io.Reader, size int64) (ds *dcm.Dataset, err error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(132); err != nil || string(head[128:]) != "DICM" {
		return nil, fmt.Errorf("deid: %w", rd.ErrNotDICOM)
	}
	parsed, err := parse(br, size)
	if err != nil {
		return nil, fmt.Errorf("deid: parse: %w", err)
	}
	ds = &parsed
	if e, err := ds.FindElementByTag(tag.TransferSyntaxUID); err == nil {
		if v, _ := e.Value.GetValue().([]string); len(v) > 0 && v[0] == uid.DeflatedExplicitVRLittleEndian {
			if err := setStrings(e, uid.ExplicitVRLittleEndian); err != nil {
				return nil, err
			}
		}
	}
	return ds, nil
}

func parse(r io.Reader, size int64) (ds dcm.Dataset, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("parser panic: %v", p)
		}
	}()
	return dcm.Parse(r, size, nil, dcm.SkipProcessingPixelDataValue(), dcm.AllowUnknownSpecificCharacterSet())
}

// withExplicitUNSequences is the Part 10 file data with its data set
// rewritten by explicitUNSequences, if its transfer syntax is explicit VR
// little endian.
func withExplicitUNSequences(data []byte) ([]byte, error) {
	const start = 132 + 12 // preamble, DICM, (0002,0000) UL
	if len(data) < start || binary.LittleEndian.Uint16(data[132:]) != 0x0002 || binary.LittleEndian.Uint16(data[134:]) != 0x0000 {
		return nil, errCP246
	}
	end := start + int(binary.LittleEndian.Uint32(data[140:]))
	if end > len(data) {
		return nil, errCP246
	}
	c := &cp246{in: data[:end], pos: start}
	ts := ""
	for c.pos < end {
		t, err := c.tagAt()
		if err != nil {
			return nil, errCP246
		}
		_, n, err := c.explicitVRLength()
		if err != nil || uint64(c.pos)+uint64(n) > uint64(end) {
			return nil, errCP246
		}
		if t == tag.TransferSyntaxUID {
			ts = strings.TrimRight(string(data[c.pos:c.pos+int(n)]), "\x00 ")
		}
		c.pos += int(n)
	}
	if ts != uid.ExplicitVRLittleEndian {
		return nil, errCP246
	}
	body, err := explicitUNSequences(data[end:])
	if err != nil {
		return nil, err
	}
	return append(append(make([]byte, 0, end+len(body)), data[:end]...), body...), nil
}

// ReadAt is Read after the checks intake runs (rd.ReadMeta: element
// lengths within the file, UIDs present), so a damaged or hostile file
// costs a small read instead of gigabytes of allocation.
func ReadAt(r io.ReaderAt, size int64) (*dcm.Dataset, error) {
	if _, err := rd.ReadMeta(r, size); err != nil {
		return nil, fmt.Errorf("deid: %w", err)
	}
	ds, err := Read(io.NewSectionReader(r, 0, size), size)
	if err == nil {
		return ds, nil
	}
	// An explicit VR file with a sequence stored as UN of undefined length
	// (CP-246) reads once that sequence is made explicit: only a file that
	// failed is read into memory for that.
	data := make([]byte, size)
	if _, rerr := r.ReadAt(data, 0); rerr != nil && !errors.Is(rerr, io.EOF) {
		return nil, err
	}
	fixed, ferr := withExplicitUNSequences(data)
	if ferr != nil {
		return nil, err
	}
	data = nil
	return Read(bytes.NewReader(fixed), int64(len(fixed)))
}

// Write writes ds as a DICOM Part 10 file.
func Write(w io.Writer, ds *dcm.Dataset) error {
	if err := dcm.Write(w, *ds, dcm.SkipVRVerification()); err != nil {
		return fmt.Errorf("deid: write: %w", err)
	}
	return nil
}

// Rewrite is Read, Apply and Write: one file de-identified from r to w. It
// returns the de-identified dataset (the caller reads the DICOMDIR keys
// from it, then drops it).
func Rewrite(w io.Writer, r io.Reader, size int64, opt Options) (*dcm.Dataset, error) {
	ds, err := Read(r, size)
	if err != nil {
		return nil, err
	}
	if err := Apply(ds, opt); err != nil {
		return nil, err
	}
	return ds, Write(w, ds)
}

// String is the first value of the string element t of ds ("" if absent).
func String(ds *dcm.Dataset, t tag.Tag) string {
	e, err := ds.FindElementByTag(t)
	if err != nil || e.Value == nil {
		return ""
	}
	if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 {
		return v[0]
	}
	return ""
}
