package dicom

import (
	"slices"
	"testing"
)

// TestExpandSegmented checks each opcode of PS3.3 C.7.9.2 on small tables
// and that malformed data is refused, not half expanded.
func TestExpandSegmented(t *testing.T) {
	for _, tc := range []struct {
		name      string
		items     []uint16
		n, size   int
		want      []uint16
		wantNil   bool
		wantShort bool
	}{
		{name: "discrete", items: []uint16{0, 3, 5, 6, 7}, n: 3, size: 2, want: []uint16{5, 6, 7}},
		// A linear segment ramps from the previous value and ends on its own.
		{name: "linear", items: []uint16{0, 1, 0, 1, 4, 100}, n: 5, size: 2, want: []uint16{0, 25, 50, 75, 100}},
		// 16-bit indirect: offset in bytes (6 = item 3), low word first.
		{name: "indirect 16-bit", items: []uint16{0, 1, 0, 1, 2, 10, 2, 1, 6, 0}, n: 5, size: 2, want: []uint16{0, 5, 10, 10, 10}},
		// 8-bit indirect: four offset bytes.
		{name: "indirect 8-bit", items: []uint16{0, 2, 9, 8, 2, 1, 0, 0, 0, 0}, n: 4, size: 1, want: []uint16{9, 8, 9, 8}},
		{name: "stops at n entries", items: []uint16{0, 4, 1, 2, 3, 4}, n: 2, size: 2, want: []uint16{1, 2}},
		{name: "trailing pad byte", items: []uint16{0, 1, 7, 0}, n: 1, size: 1, want: []uint16{7}},
		{name: "linear first", items: []uint16{1, 4, 100}, n: 4, size: 2, wantNil: true},
		{name: "unknown opcode", items: []uint16{0, 1, 5, 9, 1, 1}, n: 4, size: 2, wantNil: true},
		{name: "discrete past the end", items: []uint16{0, 9, 1}, n: 9, size: 2, wantNil: true},
		{name: "indirect out of range", items: []uint16{0, 1, 1, 2, 1, 0xFFFF, 0xFFFF}, n: 4, size: 2, wantNil: true},
		{name: "indirect into indirect", items: []uint16{0, 1, 1, 2, 1, 6, 0}, n: 4, size: 2, wantNil: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := expandSegmented(tc.items, tc.n, tc.size)
			if tc.wantNil {
				if got != nil {
					t.Fatalf("%v, want nil", got)
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzSegmentedPalette: any segmented data expands without panicking to at
// most the announced number of entries.
func FuzzSegmentedPalette(f *testing.F) {
	f.Add([]byte{0, 1, 255, 1, 255, 255}, uint16(256), true)
	f.Add([]byte{0, 0, 1, 0, 0, 0, 1, 0, 0xFF, 0xFF, 2, 0, 1, 0, 6, 0, 0, 0}, uint16(300), false)
	f.Fuzz(func(t *testing.T, b []byte, n uint16, eight bool) {
		bits := 16
		if eight {
			bits = 8
		}
		entries := max(int(n), 1)
		if got := expandSegmented(segmentItems(b, bits), entries, bits/8); len(got) > entries {
			t.Fatalf("%d entries, at most %d", len(got), entries)
		}
		plainEntries(b, entries, bits)
	})
}
