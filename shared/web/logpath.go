package web

import "strings"

// LogPath is a request path as logs may keep it: a share link's token
// (/s/<token>, a capability) is replaced by "…"; the share's own pages
// (/s/code, /s/send) stay as they are.
func LogPath(path string) string {
	if strings.HasPrefix(path, "/dicomweb/l/") {
		return redactCapability(path)
	}
	rest, ok := strings.CutPrefix(path, "/s/")
	if !ok || rest == "code" || rest == "send" || rest == "" {
		return path
	}
	return "/s/…"
}
