package dicom

import (
	"strconv"
	"strings"

	dcm "github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Enhanced multi-frame objects (Enhanced CT/MR/PET, PS3.3 C.7.6.16) keep
// rescale and window in functional groups, not at the top level: Pixel
// Value Transformation (0028,9145) and Frame VOI LUT (0028,9132), in the
// Shared Functional Groups (5200,9229) or per frame (5200,9230). Without
// them a CT stored with intercept -1024 renders its raw values through a
// window meant for Hounsfield units: saturated.

// functionalGroups fills rescale and window from the functional groups when
// the top level has none: the shared groups first, then the first frame's
// (the viewer renders one window per instance; frames of one enhanced
// series share theirs in practice).
func functionalGroups(ds dcm.Dataset, m *Meta) {
	groups := append(seqItems(ds.Elements, tag.SharedFunctionalGroupsSequence, 1),
		seqItems(ds.Elements, tag.PerFrameFunctionalGroupsSequence, 1)...)
	if len(groups) == 0 {
		return
	}
	if _, err := ds.FindElementByTag(tag.RescaleIntercept); err != nil {
		for _, g := range groups {
			if pvt := seqItems(g, tag.PixelValueTransformationSequence, 1); len(pvt) > 0 {
				if f, ok := fltIn(pvt[0], tag.RescaleIntercept); ok {
					m.RescaleIntercept = f
				}
				if f, ok := fltIn(pvt[0], tag.RescaleSlope); ok && f != 0 {
					m.RescaleSlope = f
				}
				break
			}
		}
	}
	if m.WindowCenter == "" && m.WindowWidth == "" {
		for _, g := range groups {
			if voi := seqItems(g, tag.FrameVOILUTSequence, 1); len(voi) > 0 {
				m.WindowCenter = clip(strings.Join(strsIn(voi[0], tag.WindowCenter), `\`), 200)
				m.WindowWidth = clip(strings.Join(strsIn(voi[0], tag.WindowWidth), `\`), 200)
				break
			}
		}
	}
}

// seqItems returns up to max items of the sequence t among elems.
func seqItems(elems []*dcm.Element, t tag.Tag, max int) [][]*dcm.Element {
	for _, e := range elems {
		if e == nil || e.Tag != t || e.Value == nil {
			continue
		}
		items, ok := e.Value.GetValue().([]*dcm.SequenceItemValue)
		if !ok {
			return nil
		}
		var out [][]*dcm.Element
		for _, it := range items {
			if len(out) == max {
				break
			}
			if els, ok := it.GetValue().([]*dcm.Element); ok {
				out = append(out, els)
			}
		}
		return out
	}
	return nil
}

func strsIn(elems []*dcm.Element, t tag.Tag) []string {
	return strs(dcm.Dataset{Elements: elems}, t)
}

func fltIn(elems []*dcm.Element, t tag.Tag) (float64, bool) {
	v := strsIn(elems, t)
	if len(v) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v[0]), 64)
	return f, err == nil
}
