// Package static embeds CSS, JS and the npm-pinned vendor files (htmx), copied
// into static/vendor by `make` from node_modules.
package static

import "embed"

// FS holds every static file served under /static/.
//
//go:embed *
var FS embed.FS
