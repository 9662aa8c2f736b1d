// Package views embeds the html/template files so radpass is one file to deploy.
package views

import "embed"

// FS holds layouts/, staff/, patient/, partials/, errors/ and dev/ (dev-mode pages).
//
//go:embed layouts staff patient partials errors dev
var FS embed.FS
