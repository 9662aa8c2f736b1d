package dicomweb

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	rd "github.com/radpass/radpass/shared/dicom"
)

// jsonAttr is one attribute of the DICOM JSON model (PS3.18 F.2).
type jsonAttr struct {
	VR           string `json:"vr"`
	Value        []any  `json:"Value,omitempty"`
	InlineBinary string `json:"InlineBinary,omitempty"`
	BulkDataURI  string `json:"BulkDataURI,omitempty"`
}

// jsonDataset is one data set in the DICOM JSON model, keyed by tag (8 hex digits).
type jsonDataset map[string]jsonAttr

func tagKey(t tag.Tag) string { return fmt.Sprintf("%04X%04X", t.Group, t.Element) }

// toJSON converts the data set ds (file meta group left out, PS3.18 F.2)
// to the DICOM JSON model; the pixel data becomes a BulkDataURI (pixelURI).
func toJSON(ds *dcm.Dataset, pixelURI string) jsonDataset {
	out := jsonDataset{}
	for _, e := range ds.Elements {
		if e.Tag.Group == 0x0002 {
			continue
		}
		if a, ok := elementJSON(e, pixelURI, 0); ok {
			out[tagKey(e.Tag)] = a
		}
	}
	return out
}

func elementVR(e *dcm.Element) string {
	vr := e.RawValueRepresentation
	if (vr == "" || vr == "UN") && e.Tag != tag.PixelData {
		if d, ok := rd.DictionaryVR(e.Tag); ok {
			vr = d
		}
	}
	if vr == "" {
		vr = "UN"
	}
	if len(vr) > 2 { // the library's "xs" style VRs for ambiguous entries
		vr = "OB"
	}
	if e.Tag == tag.PixelData && vr != "OB" && vr != "OW" {
		vr = "OB"
	}
	return vr
}

func elementJSON(e *dcm.Element, pixelURI string, depth int) (jsonAttr, bool) {
	vr := elementVR(e)
	a := jsonAttr{VR: vr}
	if e.Value == nil {
		return a, true
	}
	switch e.Value.ValueType() {
	case dcm.PixelData:
		a.BulkDataURI = pixelURI
		return a, pixelURI != ""
	case dcm.Sequences:
		items, _ := e.Value.GetValue().([]*dcm.SequenceItemValue)
		if depth > 32 {
			return a, true
		}
		for _, it := range items {
			sub := jsonDataset{}
			for _, se := range it.GetValue().([]*dcm.Element) {
				if sa, ok := elementJSON(se, "", depth+1); ok {
					sub[tagKey(se.Tag)] = sa
				}
			}
			a.Value = append(a.Value, sub)
		}
		a.VR = "SQ"
		return a, true
	case dcm.Bytes:
		b, _ := e.Value.GetValue().([]byte)
		if len(b) > 0 {
			a.InlineBinary = base64.StdEncoding.EncodeToString(b)
		}
		return a, true
	case dcm.Ints:
		v, _ := e.Value.GetValue().([]int)
		for _, n := range v {
			a.Value = append(a.Value, n)
		}
		if isBinaryVR(vr) { // words read as numbers (OW, OL, ...): send them as bytes
			a.Value = nil
		}
		return a, true
	case dcm.Floats:
		v, _ := e.Value.GetValue().([]float64)
		for _, n := range v {
			a.Value = append(a.Value, n)
		}
		if isBinaryVR(vr) {
			a.Value = nil
		}
		return a, true
	case dcm.Strings:
		v, _ := e.Value.GetValue().([]string)
		for _, s := range v {
			a.Value = append(a.Value, stringJSON(vr, s))
		}
		if len(v) == 1 && v[0] == "" {
			a.Value = nil
		}
		return a, true
	}
	return a, true
}

func isBinaryVR(vr string) bool {
	switch vr {
	case "OB", "OW", "OD", "OF", "OL", "OV", "UN":
		return true
	}
	return false
}

// stringJSON is one value of a string element in the JSON model: a number
// for IS and DS, an object for PN, the trimmed text otherwise.
func stringJSON(vr, s string) any {
	s = strings.TrimRight(s, "\x00 ")
	switch vr {
	case "PN":
		if s == "" {
			return nil
		}
		groups := strings.SplitN(s, "=", 3)
		pn := map[string]string{}
		for i, k := range []string{"Alphabetic", "Ideographic", "Phonetic"} {
			if i < len(groups) && groups[i] != "" {
				pn[k] = groups[i]
			}
		}
		return pn
	case "IS":
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			return n
		}
		return nil
	case "DS":
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f
		}
		return nil
	}
	if s == "" {
		return nil
	}
	return s
}
