package web

import (
	"strings"
	"unicode/utf8"
)

// MaxShownValue is how many bytes of a submitted value a page ever shows back
// (a refused form re-displays what was typed): no form field of RadPass is
// longer, so a huge value is never echoed to the browser in full.
const MaxShownValue = 4096

// CapValue cuts s to at most MaxShownValue bytes on a rune boundary, for
// showing a submitted value back in a form. Validation must still refuse the
// value itself; this only bounds the page. It is the "capvalue" template
// function.
func CapValue(s string) string {
	if len(s) <= MaxShownValue {
		return s
	}
	cut := MaxShownValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// TemplateFuncs are the functions every view may use (the server and the
// tests load the templates with the same set).
func TemplateFuncs() map[string]any {
	return map[string]any{"join": strings.Join, "capvalue": CapValue}
}
