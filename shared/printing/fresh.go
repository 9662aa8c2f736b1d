package printing

import (
	"sync"
	"time"
)

// freshLetters keeps the letter rendered inside a print for the "Print
// immediately" request that follows it, so a print renders its letter once,
// not twice. An entry is used once, lives at most freshLetterTTL, and is
// served only after the same checks as any letter (the user sees the bucket
// and their session holds its number). It lives in this process only: on
// another instance the letter is simply rendered again.
type freshLetters struct {
	mu sync.Mutex
	m  map[freshKey]freshLetter
}

type freshKey struct {
	bucket int64
	lang   string
}

type freshLetter struct {
	pdf []byte
	at  time.Time
}

const (
	freshLetterTTL = time.Minute
	freshLetterMax = 64 // a burst of prints keeps at most this many (about 100 KB each)
)

func (f *freshLetters) put(bucket int64, lang string, pdf []byte, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[freshKey]freshLetter{}
	}
	for k, v := range f.m {
		if now.Sub(v.at) > freshLetterTTL {
			delete(f.m, k)
		}
	}
	if len(f.m) >= freshLetterMax {
		// Full of letters nobody fetched: the oldest makes room.
		var oldest freshKey
		first := true
		for k, v := range f.m {
			if first || v.at.Before(f.m[oldest].at) {
				oldest, first = k, false
			}
		}
		delete(f.m, oldest)
	}
	f.m[freshKey{bucket, lang}] = freshLetter{pdf: pdf, at: now}
}

// take returns and forgets the letter of bucket in lang, if still fresh.
func (f *freshLetters) take(bucket int64, lang string, now time.Time) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := freshKey{bucket, lang}
	v, ok := f.m[k]
	delete(f.m, k)
	if !ok || now.Sub(v.at) > freshLetterTTL {
		return nil, false
	}
	return v.pdf, true
}
