package otp_test

import (
	"bytes"
	"testing"

	"github.com/radpass/radpass/shared/otp"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func TestGenerateShapeAndDistribution(t *testing.T) {
	const n = 200_000
	var counts [otp.Digits][10]int
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		c, err := otp.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if norm, ok := otp.Normalize(c); !ok || norm != c {
			t.Fatalf("generated %q is not a normalized code", c)
		}
		for p := 0; p < otp.Digits; p++ {
			counts[p][c[p]-'0']++
		}
		seen[c] = true
	}
	// Chi-square per position, 9 degrees of freedom: 0.1 % critical value
	// is 27.88; a uniform generator fails this about once in 1000 runs per
	// position, so the bound is set at 40 (p ≈ 10^-5).
	for p := 0; p < otp.Digits; p++ {
		exp := float64(n) / 10
		chi := 0.0
		for d := 0; d < 10; d++ {
			diff := float64(counts[p][d]) - exp
			chi += diff * diff / exp
		}
		if chi > 40 {
			t.Errorf("position %d: chi-square %.1f, counts %v", p, chi, counts[p])
		}
	}
	// 200,000 draws from 10^6 codes: about 181,000 distinct are expected;
	// a generator with a small state would repeat far more.
	if len(seen) < 175_000 {
		t.Errorf("only %d distinct codes in %d", len(seen), n)
	}
}

func TestHashIsBoundToBucketAndKey(t *testing.T) {
	h := otp.Hash(key, 7, "123456")
	if len(h) != 32 {
		t.Fatalf("hash of %d bytes", len(h))
	}
	tests := []struct {
		name  string
		other []byte
		equal bool
	}{
		{"same bucket, same code", otp.Hash(key, 7, "123456"), true},
		{"other bucket", otp.Hash(key, 8, "123456"), false},
		{"negative bucket id", otp.Hash(key, -7, "123456"), false},
		{"other code", otp.Hash(key, 7, "123457"), false},
		{"other key", otp.Hash([]byte("another key, another server!!!!!"), 7, "123456"), false},
	}
	for _, tt := range tests {
		if got := otp.Equal(h, tt.other); got != tt.equal {
			t.Errorf("%s: Equal = %v", tt.name, got)
		}
	}
	if bytes.Contains(h, []byte("123456")) {
		t.Fatal("the hash carries the code")
	}
}

func TestEqual(t *testing.T) {
	a := otp.Hash(key, 1, "000000")
	if otp.Equal(a, a[:31]) || otp.Equal(a, nil) || otp.Equal(nil, a) {
		t.Fatal("a shorter hash is equal")
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"123456", "123456", true},
		{"000001", "000001", true},
		{" 123 456 ", "123456", true},
		{"123-456", "123456", true},
		{"12-34-56", "123456", true},
		{"123\u00a0456", "123456", true},
		{"123\u2013456", "123456", true},
		{"\t123456\t", "123456", true},
		{"", "", false},
		{"12345", "", false},
		{"1234567", "", false},
		{"123 4567", "", false},
		{"12345a", "", false},
		{"１２３４５６", "", false}, // full-width digits are not ASCII digits
		{"123.456", "", false},
		{"+123456", "", false},
		{"١٢٣٤٥٦", "", false}, // Arabic-Indic digits
		{"-------", "", false},
	}
	for _, tt := range tests {
		got, ok := otp.Normalize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConstants(t *testing.T) {
	if otp.TTL.Minutes() != 10 || otp.CooldownResend.Seconds() != 60 || otp.MaxSendsPerDay != 5 || otp.Digits != 6 {
		t.Fatal("the rules of design.md changed")
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := otp.Generate(); err != nil {
			b.Fatal(err)
		}
	}
}
