package letter_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testtool"
)

// raster renders the pages of pdf as 72 dpi grey pixels with poppler's
// pdftoppm, one PGM per page, concatenated.
func raster(t testing.TB, pdf []byte) []byte {
	t.Helper()
	testtool.Need(t, "pdftoppm")
	dir := t.TempDir()
	in := filepath.Join(dir, "l.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "72", "-gray", in, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "p*.pgm"))
	if len(pages) == 0 {
		t.Fatal("pdftoppm wrote no page")
	}
	var all []byte
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// goldenRef is the reference number of the golden letter (testdata/plain.sha256).
const goldenRef = "R4HYAEXGYACTYV2A3"

// Every letter hands gofpdf the same Go font bytes (letterFonts), with no
// copy: a PDF library that wrote into them would mix glyph metrics between
// letters rendered at the same time (and -race sees its writes). Letters
// rendered 6 at a time must rasterise pixel for pixel like the same letters
// rendered one after the other, and the Go fonts must stay byte for byte
// what the x/image module ships.
func TestParallelLettersMatchSequential(t *testing.T) {
	sumSans, sumMono := sha256.Sum256(goregular.TTF), sha256.Sum256(gomonobold.TTF)

	var letters []*letter.Letter
	for i, lang := range []string{"en", "nl", "fr", "de", "en", "de"} {
		l := sample(t, lang)
		n, err := refnum.New()
		if err != nil {
			t.Fatal(err)
		}
		l.Ref = n
		l.PatientName = []string{"Łukasik, Zoë", "Ørsted, Åse", "Nguyễn, Thị Ánh", "Groß, Jürgen", "Ελένη, Παπαδοπούλου", "Иванов, Пётр"}[i]
		l.Message = strings.Repeat("Wij 0123456789 ĳ œ — “quotes” ", i+1)
		letters = append(letters, l)
	}
	want := make([][]byte, len(letters))
	for i, l := range letters {
		pdf, err := letter.Render(l)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = raster(t, pdf)
	}

	const workers, rounds = 6, 1
	got := make([][][]byte, len(letters)) // distinct PDFs per letter
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				for k := range letters {
					i := (k + w) % len(letters)
					pdf, err := letter.Render(letters[i])
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					seen := false
					for _, p := range got[i] {
						if bytes.Equal(p, pdf) {
							seen = true
							break
						}
					}
					if !seen {
						got[i] = append(got[i], pdf)
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every distinct PDF is rasterised (identical bytes rasterise alike).
	for i, pdfs := range got {
		for j, pdf := range pdfs {
			if !bytes.Equal(raster(t, pdf), want[i]) {
				t.Errorf("letter %d (variant %d of %d) rendered in parallel differs from the sequential rendering", i, j+1, len(pdfs))
			}
		}
	}
	if sha256.Sum256(goregular.TTF) != sumSans || sha256.Sum256(gomonobold.TTF) != sumMono {
		t.Error("rendering letters changed the bytes of the embedded Go fonts")
	}
}

func TestCheckPrintable(t *testing.T) {
	cases := []struct {
		in  string
		bad rune
		ok  bool
	}{
		{"", 0, true},
		{"Łukasik, Zoë Groß-Wójcik", 0, true},
		{"Ελένη Иванов Ånstrøm “quoted” — €", 0, true},
		{"Nguyễn", 'ễ', false}, // precomposed Vietnamese is not in Go Regular
		{"two\nlines\tand tab\r\n", 0, true},
		{"smile 😀 please", '😀', false},
		{"𝐀bc", '𝐀', false},
		{"bell\a", '\a', false},
		{"nul\x00", 0, false},
		{"c1\u0085", '\u0085', false},
		{"bad utf-8 \xff", '\uFFFD', false},
		{"Chinese 王", '王', false}, // no CJK in the Go fonts
		{"private \uE000", '\uE000', false},
	}
	for _, c := range cases {
		bad, ok := letter.CheckPrintable(c.in)
		if ok != c.ok || bad != c.bad {
			t.Errorf("CheckPrintable(%q) = %q, %v; want %q, %v", c.in, bad, ok, c.bad, c.ok)
		}
		err := letter.Check(c.in)
		var ue *letter.UnprintableError
		if c.ok != (err == nil) || (!c.ok && (!errors.As(err, &ue) || ue.Rune != c.bad)) {
			t.Errorf("Check(%q) = %v", c.in, err)
		}
		safe := letter.SafeText(c.in)
		if _, ok := letter.CheckPrintable(safe); !ok {
			t.Errorf("SafeText(%q) = %q is not printable", c.in, safe)
		}
		if c.ok && safe != c.in {
			t.Errorf("SafeText changed printable %q into %q", c.in, safe)
		}
	}
	for in, want := range map[string]string{
		"a😀b\x01c":       "a\uFFFDb\uFFFDc",
		"Nguyễn Thị Ánh": "Nguyên Thi Ánh", // the marks the font lacks go, the rest stays
		"𝐀lice":          "Alice",
		"王 \xff":         "\uFFFD \uFFFD",
	} {
		if got := letter.SafeText(in); got != want {
			t.Errorf("SafeText(%q) = %q, want %q", in, got, want)
		}
	}
}

// An emoji or a mathematical letter anywhere in the letter (runes above
// U+FFFF, on which gofpdf panics with index out of range [65536]) does not
// stop it: Render prints the rest, with a
// replacement character in place of what the font cannot draw.
func TestUnprintableTextStillRenders(t *testing.T) {
	cases := []struct {
		name string
		set  func(*letter.Letter)
		want string
	}{
		{"message", func(l *letter.Letter) { l.Message = "Bring your card 😀 please" }, "Bring your card � please"},
		{"patient name", func(l *letter.Letter) { l.PatientName = "𝐀lice, Smith 😀" }, "Alice, Smith �"},
		{"department name", func(l *letter.Letter) { l.Department.Name = "Radiology 🏥 North" }, "Radiology � North"},
		{"contact", func(l *letter.Letter) { l.Department.Contact = "the desk 📞 upstairs" }, "the desk � upstairs"},
		{"address", func(l *letter.Letter) { l.Department.Address = "Main Street 1\x07 Town" }, "Main Street 1� Town"},
		{"exam", func(l *letter.Letter) { l.Exams[0].Description = "CT 🦴 scan" }, "CT � scan"},
		{"invalid utf-8", func(l *letter.Letter) { l.Message = "half \xf0\x9f done" }, "half"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := sample(t, "en")
			c.set(l)
			pdf, err := letter.Render(l)
			if err != nil {
				t.Fatal(err)
			}
			txt := strings.Join(strings.Fields(pdfText(t, pdf)), " ")
			if !strings.Contains(txt, c.want) {
				t.Errorf("letter lacks %q\n%s", c.want, txt)
			}
			if !strings.Contains(txt, l.Ref.Grouped()) {
				t.Error("letter lacks the reference number")
			}
		})
	}
}

func TestMessageLinesPrintOnTheirOwnLines(t *testing.T) {
	l := sample(t, "en")
	l.Message = "First line\nSecond line"
	pdf, err := letter.Render(l)
	if err != nil {
		t.Fatal(err)
	}
	txt := pdfText(t, pdf)
	if !strings.Contains(txt, "First line\n") || !strings.Contains(txt, "Second line") {
		t.Errorf("message lines not kept\n%s", txt)
	}
}

func pngLogo(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: 20, G: 20, B: 20, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pdfImages lists the images of pdf ("width×height" each) with pdfimages -list.
func pdfImages(t *testing.T, pdf []byte) []string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "l.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdfimages", "-list", in).Output()
	if err != nil {
		t.Fatalf("pdfimages: %v", err)
	}
	var list []string
	for _, line := range strings.Split(string(out), "\n")[2:] {
		if f := strings.Fields(line); len(f) > 4 && f[2] == "image" {
			list = append(list, f[3]+"x"+f[4])
		}
	}
	return list
}

func TestLogo(t *testing.T) {
	base := sample(t, "en")
	plain, err := letter.Render(base)
	if err != nil {
		t.Fatal(err)
	}
	plainImages := pdfImages(t, plain)
	plainRaster := raster(t, plain)

	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 120, 240)), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, size string
		logo       []byte
	}{
		{"wide png", "600x100", pngLogo(t, 600, 100)},
		{"tall jpeg", "120x240", jpg.Bytes()},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := *base
			l.Logo = c.logo
			pdf, err := letter.Render(&l)
			if err != nil {
				t.Fatal(err)
			}
			imgs := pdfImages(t, pdf)
			if len(imgs) != len(plainImages)+1 || !strings.Contains(fmt.Sprint(imgs), c.size) {
				t.Errorf("images with logo %v, without %v", imgs, plainImages)
			}
			r := raster(t, pdf)
			if bytes.Equal(r, plainRaster) {
				t.Error("the logo does not show on the page")
			}
			// The logo is dark: the top left of the page is inked, within
			// the bounded box (20 mm ≈ 57 px at 72 dpi below the 15 mm margin).
			if ink := darkRows(t, r, 0, 200); ink < 10 {
				t.Errorf("only %d dark rows at the top left", ink)
			}
		})
	}

	t.Run("no logo is unchanged", func(t *testing.T) {
		l := *base
		l.Logo = []byte{}
		pdf, err := letter.Render(&l)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raster(t, pdf), plainRaster) {
			t.Error("an empty logo changed the letter")
		}
		golden, err := os.ReadFile(filepath.Join("testdata", "plain.sha256"))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(rasterNoRef(t, &l))); got != strings.TrimSpace(string(golden)) {
			t.Errorf("the letter without logo changed: raster sha256 %s, golden %s", got, golden)
		}
	})

	for _, c := range []struct {
		name string
		logo []byte
	}{
		{"garbage", []byte("not an image at all")},
		{"16-bit png", func() []byte {
			var b bytes.Buffer
			_ = png.Encode(&b, image.NewRGBA64(image.Rect(0, 0, 10, 10)))
			return b.Bytes()
		}()},
		{"huge", pngLogo(t, letter.LogoMaxPixels+1, 1)},
	} {
		if err := letter.CheckLogo(c.logo); err == nil {
			t.Errorf("CheckLogo accepted %s", c.name)
		}
		l := *base
		l.Logo = c.logo
		if _, err := letter.Render(&l); err == nil {
			t.Errorf("Render accepted a %s logo", c.name)
		}
	}
}

// rasterNoRef is the raster of l with a fixed reference number and QR code
// target, for the golden comparison (a fresh number changes every render).
func rasterNoRef(t *testing.T, l *letter.Letter) []byte {
	t.Helper()
	c := *l
	n, err := refnum.Parse(goldenRef)
	if err != nil {
		t.Fatalf("golden reference: %v", err)
	}
	c.Ref = n
	pdf, err := letter.Render(&c)
	if err != nil {
		t.Fatal(err)
	}
	return raster(t, pdf)
}

// darkRows counts pixel rows of the first PGM page (P5, 8-bit) that have a
// dark pixel among columns [x0, x1) in the top quarter of the page.
func darkRows(t *testing.T, pgm []byte, x0, x1 int) int {
	t.Helper()
	var w, h, max int
	var hdr int
	if _, err := fmt.Sscanf(string(pgm[:min(len(pgm), 40)]), "P5\n%d %d\n%d\n", &w, &h, &max); err != nil {
		t.Fatalf("PGM header: %v", err)
	}
	hdr = len(fmt.Sprintf("P5\n%d %d\n%d\n", w, h, max))
	n := 0
	for y := 0; y < h/4; y++ {
		row := pgm[hdr+y*w : hdr+(y+1)*w]
		for x := x0; x < x1 && x < w; x++ {
			if row[x] < 60 {
				n++
				break
			}
		}
	}
	return n
}

// BenchmarkLetterPDFWithLogo is BenchmarkLetterPDF with a 600×200 PNG logo.
func BenchmarkLetterPDFWithLogo(b *testing.B) {
	l := sample(b, "fr")
	l.Logo = pngLogo(b, 600, 200)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := letter.Render(l); err != nil {
			b.Fatal(err)
		}
	}
}

// Render turns a panic inside it into an error (here: no letter at all).
func TestRenderRecovers(t *testing.T) {
	pdf, err := letter.Render(nil)
	if err == nil || pdf != nil {
		t.Fatalf("Render(nil) = %d bytes, %v; want an error", len(pdf), err)
	}
}
