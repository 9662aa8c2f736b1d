package printing

import (
	"testing"
	"time"
)

// The letter rendered in a print serves its Print immediately once, within
// a minute, in its language only; the cache never grows past its bound.
func TestFreshLetters(t *testing.T) {
	var f freshLetters
	now := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	f.put(1, "en", []byte("pdf-1"), now)
	if _, ok := f.take(1, "nl", now); ok {
		t.Fatal("served in another language")
	}
	f.put(1, "en", []byte("pdf-1"), now)
	if pdf, ok := f.take(1, "en", now.Add(59*time.Second)); !ok || string(pdf) != "pdf-1" {
		t.Fatal("not served within the minute")
	}
	if _, ok := f.take(1, "en", now); ok {
		t.Fatal("served twice")
	}
	f.put(2, "en", []byte("pdf-2"), now)
	if _, ok := f.take(2, "en", now.Add(61*time.Second)); ok {
		t.Fatal("served after a minute")
	}
	for i := int64(0); i < 2*freshLetterMax; i++ {
		f.put(100+i, "en", []byte("x"), now.Add(time.Duration(i)*time.Millisecond))
	}
	if len(f.m) > freshLetterMax {
		t.Fatalf("%d entries kept", len(f.m))
	}
	if _, ok := f.take(100+2*freshLetterMax-1, "en", now); !ok {
		t.Fatal("the newest letter made no room for itself")
	}
}
