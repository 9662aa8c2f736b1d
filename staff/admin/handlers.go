// Package admin holds the administration pages of department admins and
// the service desk: users (users_list.go, user_*.go), groups (groups_list.go,
// group_*.go), labels (labels_list.go, label_*.go), department settings and
// logo (settings.go, settings_logo.go) and the audit trail (audit_trail.go).
// The route table guards them all with staffweb.RequireAdmin.
package admin

import "github.com/radpass/radpass/staff/staffweb"

// Handlers are the admin handlers, over the services all staff pages share.
type Handlers struct{ *staffweb.Deps }
