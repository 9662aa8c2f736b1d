// Package i18n translates every user-visible string (UI and letters) into the
// supported languages. Message files live in locales/, one file per area and
// language (core.en.toml, letter.nl.toml, ...), so several areas can grow
// without editing the same file.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages RadPass speaks, in the order menus list them.
var Languages = []string{"en", "nl", "fr", "de"}

// Default is the language of last resort.
const Default = "en"

//go:embed locales/*.toml
var files embed.FS

var (
	bundle     *goi18n.Bundle
	localizers = map[string]*goi18n.Localizer{}
	matcher    language.Matcher
	loadOnce   sync.Once
)

func load() {
	bundle = goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	entries, err := fs.ReadDir(files, "locales")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		if _, err := bundle.LoadMessageFileFS(files, path.Join("locales", e.Name())); err != nil {
			panic(fmt.Sprintf("i18n: %s: %v", e.Name(), err))
		}
	}
	tags := make([]language.Tag, len(Languages))
	for i, l := range Languages {
		tags[i] = language.MustParse(l)
		localizers[l] = goi18n.NewLocalizer(bundle, l)
	}
	matcher = language.NewMatcher(tags)
}

// Valid reports whether lang is a supported language code.
func Valid(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Match picks the best supported language for an Accept-Language header.
func Match(acceptLanguage string) string {
	loadOnce.Do(load)
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Languages[idx]
}

// T translates id into lang. args are name/value pairs for the template
// ("Name", "Ann"); a "Count" argument selects the plural form.
func T(lang, id string, args ...any) string {
	loadOnce.Do(load)
	loc, ok := localizers[lang]
	if !ok {
		loc = localizers[Default]
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k := fmt.Sprint(args[i])
			data[k] = args[i+1]
			if k == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := loc.Localize(cfg)
	if err != nil || s == "" {
		// A missing key shows itself instead of breaking the page; the
		// completeness test keeps this from reaching users.
		return id
	}
	return s
}

// Translator is T bound to one language, for templates and letters.
type Translator func(id string, args ...any) string

// For returns the Translator of lang.
func For(lang string) Translator {
	if !Valid(lang) {
		lang = Default
	}
	return func(id string, args ...any) string { return T(lang, id, args...) }
}

// Keys lists every message id of lang, for the completeness test.
func Keys(lang string) []string {
	loadOnce.Do(load)
	var ids []string
	tag := language.MustParse(lang)
	for _, t := range bundle.LanguageTags() {
		if t != tag {
			continue
		}
		entries, _ := fs.ReadDir(files, "locales")
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), "."+lang+".toml") {
				continue
			}
			b, _ := fs.ReadFile(files, path.Join("locales", e.Name()))
			var m map[string]any
			if err := toml.Unmarshal(b, &m); err == nil {
				for k := range m {
					ids = append(ids, k)
				}
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// LanguageName is a language's own name, for the language menus.
func LanguageName(lang string) string {
	switch lang {
	case "nl":
		return "Nederlands"
	case "fr":
		return "Français"
	case "de":
		return "Deutsch"
	}
	return "English"
}
