package departments_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/radpass/radpass/shared/apperr"
	"github.com/radpass/radpass/shared/departments"
	"github.com/radpass/radpass/shared/letter"
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

// A header claiming 20000 x 20000 pixels with almost no body: the size
// error from the header, nothing decoded.
func TestNormalizeLogoChecksTheHeaderFirst(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()[:33] // signature and IHDR only: no pixel data at all
	binary.BigEndian.PutUint32(b[16:20], 20000)
	binary.BigEndian.PutUint32(b[20:24], 20000)
	binary.BigEndian.PutUint32(b[29:33], crc32.ChecksumIEEE(b[12:29]))
	_, _, _, err := departments.NormalizeLogo(b)
	var ae *apperr.Error
	if !asApp(err, &ae) || ae.Key != "settings.error.logo.pixels" {
		t.Fatalf("20000 x 20000 header: %v, want the pixels error", err)
	}
}

// A photo of noise within the upload limit (a 1581 x 1581 JPEG) would make
// a PNG larger than is stored: it is refused as too detailed, in words that
// say so (the file itself is under the limit, so "too large" would be
// wrong); a plain logo of the same size passes.
func TestNormalizeLogoRefusesTooDetailedNoRace(t *testing.T) {
	const side = 1581
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	if jp.Len() > departments.MaxLogoBytes {
		t.Fatalf("test image is %d bytes, over the upload limit", jp.Len())
	}
	_, _, _, err := departments.NormalizeLogo(jp.Bytes())
	var ae *apperr.Error
	if !asApp(err, &ae) || ae.Key != "settings.error.logo.detail" {
		t.Fatalf("noisy %d-byte JPEG: %v, want the too-detailed error", jp.Len(), err)
	}
	// A plain logo of the same size is fine.
	plain := image.NewRGBA(image.Rect(0, 0, side, side))
	jp.Reset()
	if err := jpeg.Encode(&jp, plain, nil); err != nil {
		t.Fatal(err)
	}
	if _, w, h, err := departments.NormalizeLogo(jp.Bytes()); err != nil || w != side || h != side {
		t.Fatalf("plain logo: %dx%d %v", w, h, err)
	}
}

// Every logo the upload accepts is one the letter can draw: wider than the
// letter's limit is scaled down (proportions kept), 16-bit becomes 8-bit.
// Stored as uploaded, a 2500-pixel or 16-bit logo would make every print of
// its department fail.
func TestNormalizeLogoFitsTheLetterNoRace(t *testing.T) {
	gray16 := image.NewGray16(image.Rect(0, 0, 300, 100))
	for i := range gray16.Pix {
		gray16.Pix[i] = byte(i)
	}
	wide := image.NewNRGBA(image.Rect(0, 0, 3000, 500))
	for i := range wide.Pix {
		wide.Pix[i] = byte(i / 7)
	}
	tall := image.NewRGBA(image.Rect(0, 0, 400, 2400))
	for i := range tall.Pix {
		tall.Pix[i] = 200
	}
	photo := image.NewRGBA(image.Rect(0, 0, 240, 80))
	for i := range photo.Pix {
		photo.Pix[i] = byte(i * 13)
	}
	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, photo, nil); err != nil {
		t.Fatal(err)
	}
	// The JPEG as uploaded: stored as a PNG the letter draws.
	out, _, _, err := departments.NormalizeLogo(jp.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := letter.CheckLogo(out); err != nil {
		t.Fatalf("a JPEG upload is stored as a logo the letter refuses: %v", err)
	}
	jpegImg, err := jpeg.Decode(&jp) // YCbCr: Go writes it as a 16-bit PNG
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		img  image.Image
		w, h int
	}{
		{"16-bit grey", gray16, 300, 100},
		{"colour JPEG", jpegImg, 240, 80},
		{"3000 wide, transparent", wide, letter.LogoMaxPixels, 333},
		{"2400 tall", tall, 333, letter.LogoMaxPixels},
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, tc.img); err != nil {
			t.Fatal(err)
		}
		if err := letter.CheckLogo(buf.Bytes()); err == nil {
			t.Fatalf("%s: the letter takes the upload as it is; the case tests nothing", tc.name)
		}
		out, w, h, err := departments.NormalizeLogo(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if w != tc.w || h != tc.h {
			t.Errorf("%s: %dx%d, want %dx%d", tc.name, w, h, tc.w, tc.h)
		}
		if err := letter.CheckLogo(out); err != nil {
			t.Errorf("%s: the letter refuses the stored logo: %v", tc.name, err)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(out)); err != nil || cfg.Width != w || cfg.Height != h {
			t.Errorf("%s: stored PNG %+v %v, reported %dx%d", tc.name, cfg, err, w, h)
		}
	}
}

func TestSingleLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"Radiology North", true},
		{"Désirée Müller, desk 2", true},
		{"", true},
		{"North\nYour code", false},
		{"North\r", false},
		{"tab\there", false},
		{"next\u0085line", false},
		{"line\u2028separator", false},
		{"para\u2029graph", false},
	} {
		if got := departments.SingleLine(c.in); got != c.want {
			t.Errorf("SingleLine(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
