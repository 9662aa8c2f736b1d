package dicomweb

import "testing"

// Accept headers as real viewers send them: Cornerstone's image loader
// (OHIF) leaves the '/' of its type parameter unquoted.
func TestParseAcceptTakesUnquotedSlash(t *testing.T) {
	for _, h := range []string{
		`multipart/related; type=application/octet-stream; transfer-syntax=*`, // Cornerstone (OHIF) frames
		`multipart/related; type="application/octet-stream"; transfer-syntax=*`,
		`Multipart/Related;Type=application/octet-stream;transfer-syntax=*, text/html;q=0`,
	} {
		ms := parseAccept(h)
		if len(ms) != 1 || ms[0].typ != "multipart/related" || ms[0].params["type"] != "application/octet-stream" || ms[0].params["transfer-syntax"] != "*" {
			t.Errorf("%s: %+v", h, ms)
		}
	}
	for _, h := range []string{`a/b/c; type=x`, `multipart/related; type`} {
		if ms := parseAccept(h); len(ms) != 0 {
			t.Errorf("%s: %+v, want nothing", h, ms)
		}
	}
}
