package web

import "testing"

// A share link's token never reaches a log line; other paths stay whole.
func TestLogPath(t *testing.T) {
	for in, want := range map[string]string{
		"/s/Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg": "/s/…",
		"/s/code": "/s/code", "/s/send": "/s/send", "/p/studies/1": "/p/studies/1", "/": "/",
	} {
		if got := LogPath(in); got != want {
			t.Errorf("LogPath(%q) = %q, want %q", in, got, want)
		}
	}
}
