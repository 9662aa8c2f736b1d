package gofpdf

import "testing"

// generateFontID hashes the widths itself instead of through JSON: the ID
// must still tell apart every definition that differs in anything but File.
func TestGenerateFontIDTellsWidthsApart(t *testing.T) {
	widths := func() []int {
		cw := make([]int, 65536)
		for i := range cw {
			cw[i] = 500 + i%300
		}
		return cw
	}
	id := func(fdt fontDefType) string {
		t.Helper()
		s, err := generateFontID(fdt)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := fontDefType{Tp: "UTF8", Name: "go", Cw: widths()}
	ref := id(base)

	same := base
	same.Cw = widths()
	same.File = "elsewhere.ttf"
	if id(same) != ref {
		t.Error("equal widths (and another File) gave another ID")
	}

	oneWidth := base
	oneWidth.Cw = widths()
	oneWidth.Cw[0x416]++
	swapped := base
	swapped.Cw = widths()
	swapped.Cw[10], swapped.Cw[11] = swapped.Cw[11], swapped.Cw[10]
	shorter := base
	shorter.Cw = widths()[:65535]
	empty := base
	empty.Cw = []int{}
	none := base
	none.Cw = nil
	name := base
	name.Name = "gomono"

	seen := map[string]string{ref: "base"}
	for _, c := range []struct {
		what string
		fdt  fontDefType
	}{
		{"one width changed", oneWidth},
		{"two widths swapped", swapped},
		{"one width fewer", shorter},
		{"empty widths", empty},
		{"no widths", none},
		{"another name", name},
	} {
		got := id(c.fdt)
		if prev, ok := seen[got]; ok {
			t.Errorf("%s: same ID as %s", c.what, prev)
		}
		seen[got] = c.what
	}
}
