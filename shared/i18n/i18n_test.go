package i18n_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/i18n"
)

// Every key of any language must exist in every language, with the same
// template placeholders, so no user ever sees a raw key or a missing name.
func TestCatalogueIsComplete(t *testing.T) {
	all := map[string]bool{}
	per := map[string]map[string]bool{}
	for _, l := range i18n.Languages {
		per[l] = map[string]bool{}
		for _, k := range i18n.Keys(l) {
			all[k] = true
			per[l][k] = true
		}
	}
	if len(all) < 20 {
		t.Fatalf("only %d keys found; the catalogue did not load", len(all))
	}
	placeholder := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	for k := range all {
		want := map[string]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(i18n.T("en", k, "Count", 2), -1) {
			want[m[1]] = true
		}
		for _, l := range i18n.Languages {
			if !per[l][k] {
				t.Errorf("key %q is missing in %s", k, l)
				continue
			}
			got := i18n.T(l, k)
			if strings.TrimSpace(got) == "" {
				t.Errorf("key %q is empty in %s", k, l)
			}
		}
	}
}

func TestPlaceholdersMatchEnglish(t *testing.T) {
	// Rendering with no data leaves "<no value>" where a placeholder was; the
	// count of those must be equal in every language.
	for _, k := range i18n.Keys("en") {
		en := strings.Count(i18n.T("en", k), "<no value>")
		for _, l := range i18n.Languages[1:] {
			if got := strings.Count(i18n.T(l, k), "<no value>"); got != en {
				t.Errorf("key %q: %s has %d placeholders, en has %d", k, l, got, en)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "en"},
		{"nl-BE,nl;q=0.9,en;q=0.8", "nl"},
		{"fr-FR", "fr"},
		{"de-CH,de;q=0.9", "de"},
		{"ja,zh;q=0.8", "en"},
		{"garbage;;;", "en"},
	}
	for _, tt := range tests {
		if got := i18n.Match(tt.header); got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestTranslateWithData(t *testing.T) {
	if got := i18n.T("en", "no.such.key"); got != "no.such.key" {
		t.Fatalf("missing key renders %q", got)
	}
	if got := i18n.For("xx")("signin.title"); got != i18n.T("en", "signin.title") {
		t.Fatalf("unknown language does not fall back to English: %q", got)
	}
}
