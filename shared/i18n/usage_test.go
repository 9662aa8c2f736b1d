package i18n_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/i18n"
	"github.com/radpass/radpass/views"
)

// Every key a template asks for with {{.T "key"}} exists in the catalogue,
// so no page shows a raw key.
func TestTemplateKeysExist(t *testing.T) {
	known := map[string]bool{}
	for _, k := range i18n.Keys("en") {
		known[k] = true
	}
	re := regexp.MustCompile(`\.T\s+"([^"]+)"`)
	var used int
	err := fs.WalkDir(views.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := fs.ReadFile(views.FS, p)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			used++
			if !known[m[1]] {
				t.Errorf("%s uses %q, which no message file defines", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 10 {
		t.Fatalf("only %d translated strings found in the views", used)
	}
}

// Keys written literally in Go (error keys, form errors, page titles) exist too.
func TestGoKeysExist(t *testing.T) {
	known := map[string]bool{}
	for _, k := range i18n.Keys("en") {
		known[k] = true
	}
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`apperr\.New\([^,()]+,\s*"([^"]+)"`),
		regexp.MustCompile(`apperr\.Field\("[^"]*",\s*"([^"]+)"`),
		regexp.MustCompile(`AddError\("[^"]*",\s*"([^"]+)"`),
		regexp.MustCompile(`NewPage\(c,\s*"([^"]+)"`),
	}
	root := filepath.Join("..", "..")
	var used int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				used++
				if !known[m[1]] {
					t.Errorf("%s uses key %q, which no message file defines", p, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 5 {
		t.Fatalf("only %d keys found in Go code", used)
	}
}

// Translations are real: a language whose messages are mostly the English
// text was copied, not translated (a few cognates such as "Label" are fine).
func TestTranslationsAreNotCopies(t *testing.T) {
	en := i18n.Keys("en")
	for _, l := range i18n.Languages[1:] {
		same := 0
		for _, k := range en {
			if i18n.T(l, k) == i18n.T("en", k) {
				same++
			}
		}
		if same*10 > len(en) {
			t.Errorf("%s: %d of %d messages are identical to English", l, same, len(en))
		}
	}
}
