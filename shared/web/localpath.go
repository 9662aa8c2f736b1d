package web

import (
	"net/url"
	"strings"
	"unicode"
)

// LocalPath keeps a redirect target on this site and under prefix: a path,
// never "//host", "/\host" or one that browsers turn into those by dropping
// tabs and newlines. Anything else becomes fallback.
func LocalPath(p, prefix, fallback string) string {
	if !strings.HasPrefix(p, prefix) || strings.HasPrefix(p, "//") || strings.Contains(p, "\\") ||
		strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return fallback
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return p
}
