package refnum_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/refnum"
)

func TestAlphabetHasNoLookAlikes(t *testing.T) {
	for _, c := range "0O1IL" {
		if strings.ContainsRune(refnum.Alphabet, c) {
			t.Errorf("alphabet contains look-alike %q", c)
		}
	}
	if len(refnum.Alphabet) != 31 {
		t.Fatalf("alphabet has %d symbols, want 31 (a prime)", len(refnum.Alphabet))
	}
}

func TestEntropyAtLeast64Bits(t *testing.T) {
	// 31^16 > 2^64 ⇔ 16·log2(31) > 64; check with integers: 31^16 overflows uint64 iff > 2^64−1.
	v := uint64(1)
	for i := 0; i < refnum.DataLen; i++ {
		hi := v * 31
		if hi/31 != v {
			return // overflowed: more than 64 bits
		}
		v = hi
	}
	t.Fatalf("31^%d = %d fits in 64 bits", refnum.DataLen, v)
}

func TestNewIsValidAndGrouped(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		n, err := refnum.New()
		if err != nil {
			t.Fatal(err)
		}
		c := n.Canonical()
		if !refnum.Valid(c) {
			t.Fatalf("new number %s fails its own check", c)
		}
		if seen[c] {
			t.Fatalf("duplicate number after %d draws", i)
		}
		seen[c] = true
		g := n.Grouped()
		if len(g) != refnum.Len+4 || g[4] != '-' || g[9] != '-' || g[14] != '-' || g[19] != '-' {
			t.Fatalf("grouped form %q is not XXXX-XXXX-XXXX-XXXX-C", g)
		}
	}
}

// TestCheckCatchesEverySingleSubstitution is exhaustive: the check is linear,
// so it suffices that every position p and every pair of distinct symbols
// a ≠ b change the weighted sum. It then also runs on real numbers.
func TestCheckCatchesEverySingleSubstitution(t *testing.T) {
	base := strings.Repeat("2", refnum.DataLen)
	base += string(refnum.Alphabet[refnum.CheckChar(base)])
	n, _ := refnum.New()
	for _, num := range []string{base, n.Canonical()} {
		if !refnum.Valid(num) {
			t.Fatalf("%s should be valid", num)
		}
		for p := 0; p < refnum.Len; p++ {
			for a := 0; a < len(refnum.Alphabet); a++ {
				b := []byte(num)
				b[p] = refnum.Alphabet[a]
				mutated := string(b)
				if mutated == num {
					continue
				}
				if refnum.Valid(mutated) {
					t.Fatalf("substitution at %d (%s -> %s) not caught", p, num, mutated)
				}
				if _, err := refnum.Parse(mutated); !errors.Is(err, refnum.ErrCheck) {
					t.Fatalf("Parse(%s) = %v, want ErrCheck", mutated, err)
				}
			}
		}
	}
	// Every (position, old, new) triple, independent of the other characters:
	// build a number with the old symbol at p, then substitute.
	for p := 0; p < refnum.Len; p++ {
		for a := 0; a < len(refnum.Alphabet); a++ {
			num := numberWith(t, p, refnum.Alphabet[a])
			for b := 0; b < len(refnum.Alphabet); b++ {
				if a == b {
					continue
				}
				m := []byte(num)
				m[p] = refnum.Alphabet[b]
				if refnum.Valid(string(m)) {
					t.Fatalf("position %d: %c -> %c not caught", p, refnum.Alphabet[a], refnum.Alphabet[b])
				}
			}
		}
	}
}

// TestCheckCatchesEveryAdjacentSwap tries every position and every ordered
// pair of distinct neighbours.
func TestCheckCatchesEveryAdjacentSwap(t *testing.T) {
	cases := 0
	for p := 0; p+1 < refnum.Len; p++ {
		for a := 0; a < len(refnum.Alphabet); a++ {
			for b := 0; b < len(refnum.Alphabet); b++ {
				if a == b {
					continue
				}
				num := numberWithPair(t, p, refnum.Alphabet[a], refnum.Alphabet[b])
				m := []byte(num)
				m[p], m[p+1] = m[p+1], m[p]
				if refnum.Valid(string(m)) {
					t.Fatalf("swap at %d of %c%c not caught (%s)", p, refnum.Alphabet[a], refnum.Alphabet[b], num)
				}
				cases++
			}
		}
	}
	if want := (refnum.Len - 1) * 31 * 30; cases != want {
		t.Fatalf("tried %d swaps, want %d", cases, want)
	}
}

// numberWith returns a valid number with symbol c at position p. When p is
// the check position, a data character is chosen to make c the check.
func numberWith(t *testing.T, p int, c byte) string {
	t.Helper()
	return numberWithPair(t, p, c, 0)
}

// numberWithPair returns a valid number with c1 at p and (if c2 != 0) c2 at p+1.
func numberWithPair(t *testing.T, p int, c1, c2 byte) string {
	t.Helper()
	want := map[int]byte{p: c1}
	if c2 != 0 {
		want[p+1] = c2
	}
	// Free data positions to adjust until the check character matches.
	for free := 0; free < refnum.DataLen; free++ {
		if _, fixed := want[free]; fixed {
			continue
		}
		for v := 0; v < len(refnum.Alphabet); v++ {
			b := []byte(strings.Repeat("3", refnum.DataLen))
			for i, ch := range want {
				if i < refnum.DataLen {
					b[i] = ch
				}
			}
			b[free] = refnum.Alphabet[v]
			num := string(b) + string(refnum.Alphabet[refnum.CheckChar(string(b))])
			if ch, ok := want[refnum.DataLen]; ok && num[refnum.DataLen] != ch {
				continue
			}
			return num
		}
	}
	t.Fatalf("no number with %c at %d", c1, p)
	return ""
}

func TestParseIsForgiving(t *testing.T) {
	n, _ := refnum.New()
	g := n.Grouped()
	for _, in := range []string{
		g,
		strings.ToLower(g),
		strings.ReplaceAll(g, "-", " "),
		strings.ReplaceAll(g, "-", ""),
		"  " + strings.ReplaceAll(strings.ToLower(g), "-", " - ") + "  ",
	} {
		got, err := refnum.Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if got.Canonical() != n.Canonical() {
			t.Fatalf("Parse(%q) = %s, want %s", in, got.Canonical(), n.Canonical())
		}
	}
}

func TestParseRejects(t *testing.T) {
	n, _ := refnum.New()
	c := n.Canonical()
	cases := []struct {
		name, in string
		want     error
	}{
		{"empty", "", refnum.ErrFormat},
		{"short", c[:10], refnum.ErrFormat},
		{"long", c + "A", refnum.ErrFormat},
		{"zero", "0" + c[1:], refnum.ErrFormat},
		{"letter O", "O" + c[1:], refnum.ErrFormat},
		{"one", "1" + c[1:], refnum.ErrFormat},
		{"letter I", "I" + c[1:], refnum.ErrFormat},
		{"letter L", "L" + c[1:], refnum.ErrFormat},
		{"non-ascii", "É" + c[1:], refnum.ErrFormat},
		{"huge", strings.Repeat("A", 10000), refnum.ErrFormat},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := refnum.Parse(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestHashIsKeyedAndStable(t *testing.T) {
	n, _ := refnum.New()
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	h := refnum.Hash(k1, n)
	if len(h) != 32 {
		t.Fatalf("hash has %d bytes", len(h))
	}
	if !bytes.Equal(h, refnum.Hash(k1, n)) {
		t.Fatal("hash is not stable")
	}
	if bytes.Equal(h, refnum.Hash(k2, n)) {
		t.Fatal("hash does not depend on the key")
	}
	if bytes.Contains(h, []byte(n.Canonical())) {
		t.Fatal("hash contains the plaintext")
	}
	p, _ := refnum.Parse(strings.ToLower(n.Grouped()))
	if !bytes.Equal(h, refnum.Hash(k1, p)) {
		t.Fatal("a forgivingly typed number hashes differently")
	}
}

func TestNumberIsRedactedInLogsAndFmt(t *testing.T) {
	n, _ := refnum.New()
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("printed", "ref", n)
	s := buf.String() + fmt.Sprint(n) + fmt.Sprintf("%v %s", n, n)
	if strings.Contains(s, n.Canonical()) || strings.Contains(s, n.Grouped()) {
		t.Fatalf("plaintext leaked: %s", s)
	}
}

// TestRandomGuessesFindNothing is security requirement 1: 10^6 random
// well-formed guesses (valid check character, as a smart attacker would send)
// hit none of 10,000 issued numbers.
func TestRandomGuessesFindNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	issued := make(map[string]struct{}, 10000)
	for len(issued) < 10000 {
		n, err := refnum.New()
		if err != nil {
			t.Fatal(err)
		}
		issued[n.Canonical()] = struct{}{}
	}
	hits := 0
	for i := 0; i < 1_000_000; i++ {
		g, err := refnum.New()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := issued[g.Canonical()]; ok {
			hits++
		}
	}
	if hits != 0 {
		t.Fatalf("%d of 10^6 guesses hit an issued number", hits)
	}
}

func BenchmarkNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := refnum.New(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSymbolsAreUniform is a chi-square check over 20,000 numbers: a biased
// draw (e.g. a plain modulo of a byte) would favour the first symbols.
func TestSymbolsAreUniform(t *testing.T) {
	counts := make([]int, len(refnum.Alphabet))
	const numbers = 20000
	for i := 0; i < numbers; i++ {
		n, err := refnum.New()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range n.Canonical()[:refnum.DataLen] {
			counts[strings.IndexRune(refnum.Alphabet, c)]++
		}
	}
	expected := float64(numbers*refnum.DataLen) / float64(len(counts))
	chi := 0.0
	for _, c := range counts {
		d := float64(c) - expected
		chi += d * d / expected
	}
	// 30 degrees of freedom: p = 0.0001 at about 66.6.
	if chi > 66.6 {
		t.Fatalf("chi-square %.1f: symbols are not uniform (%v)", chi, counts)
	}
}
