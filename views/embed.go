// Package views embeds the html/template files so radpass is one file to deploy.
package views

import "embed"

// FS holds layouts/, staff/, patient/, partials/ and errors/.
//
//go:embed layouts staff patient partials errors
var FS embed.FS
