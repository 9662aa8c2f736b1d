package departments_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"slices"
	"testing"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/departments"
)

func TestParsePrefixes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
		bad  string
	}{
		{"", []string{}, ""},
		{"+32", []string{"32"}, ""},
		{"+32, +31;49 0033 +352 +1 +32", []string{"1", "31", "32", "33", "49", "352"}, ""},
		{"32\n31", []string{"31", "32"}, ""},
		{"+999", nil, "+999"},
		{"+32, be", nil, "be"},
		{"+0", nil, "+0"},
		{"+800", nil, "+800"}, // international freephone: not a country
		{"++32", nil, "++32"},
		{"+3212", nil, "+3212"},
	} {
		got, bad := departments.ParsePrefixes(c.in)
		if bad != c.bad || (c.bad == "" && !slices.Equal(got, c.want)) {
			t.Errorf("ParsePrefixes(%q) = %v, %q; want %v, %q", c.in, got, bad, c.want, c.bad)
		}
	}
	if got := departments.FormatPrefixes([]string{"31", "32"}); got != "+31, +32" {
		t.Errorf("FormatPrefixes = %q", got)
	}
}

func TestValidSender(t *testing.T) {
	for in, want := range map[string]bool{
		"": true, "RadPass": true, "RadNorth123": true, "A": true, "32470123456": true, "123456789012345": true,
		"RadiologyNth": false, "Rad-North": false, "Rad North": false, "Radiologie–Süd": false, "Ümlaut": false,
		"1234567890123456": false, "+32470123456": false, "<script>": false,
	} {
		if got := departments.ValidSender(in); got != want {
			t.Errorf("ValidSender(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseVerifications(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
		ok   bool
	}{
		{[]string{"dob", "sms"}, []string{"sms", "dob"}, true},
		{[]string{"email", "email"}, []string{"email"}, true},
		{nil, nil, false},
		{[]string{"dob", "fax"}, nil, false},
	} {
		got, ok := departments.ParseVerifications(c.in)
		if ok != c.ok || !slices.Equal(got, c.want) {
			t.Errorf("ParseVerifications(%v) = %v, %v", c.in, got, ok)
		}
	}
}

func TestNormalizeLogoRefusesBombs(t *testing.T) {
	// A PNG header claiming 100000 x 100000 pixels: refused before decoding.
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// IHDR width/height are bytes 16..23, its CRC (over type and data) 29..32.
	copy(b[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	_, _, _, err := departments.NormalizeLogo(b)
	var ae *apperr.Error
	if !asApp(err, &ae) || ae.Key != "settings.error.logo.pixels" {
		t.Fatalf("huge header: %v", err)
	}
}

func asApp(err error, target **apperr.Error) bool {
	e, ok := err.(*apperr.Error)
	if ok {
		*target = e
	}
	return ok
}
