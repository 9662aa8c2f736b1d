package otp

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// Values at or above limit are drawn again: the first three draws here are
// rejected, the fourth (limit-1) gives the largest code of the last full block.
func TestGenerateRejectsTheBiasedTail(t *testing.T) {
	var buf bytes.Buffer
	for _, v := range []uint32{0xFFFFFFFF, limit, limit + 123, limit - 1} {
		binary.Write(&buf, binary.BigEndian, v)
	}
	got, err := generate(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := format((limit - 1) % space); got != want || got != "999999" {
		t.Fatalf("got %s, want %s", got, want)
	}
	if buf.Len() != 0 {
		t.Fatalf("%d bytes left: not every rejected draw was consumed", buf.Len())
	}
}

func TestGenerateKeepsLeadingZeros(t *testing.T) {
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, uint32(space+42))
	if got, _ := generate(&buf); got != "000042" {
		t.Fatalf("got %q", got)
	}
}

func TestGenerateReportsReadErrors(t *testing.T) {
	if _, err := generate(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("a short read gave a code")
	}
}

func TestLimitIsAMultipleOfTheSpace(t *testing.T) {
	if limit%space != 0 || limit > 1<<32 || (1<<32)-limit >= space {
		t.Fatalf("limit %d", limit)
	}
}
