// Package statusfw holds Status Forwarding: the bucket list and one row
// (list.go), and the actions on a bucket, each in its own file (unlock.go,
// extend.go, remove.go, revoke.go) over one form and submit (action.go).
// The rules are in shared/buckets.
package statusfw

import "github.com/radpass/radpass/staff/staffweb"

// Handlers are the statusfw handlers, over the services all staff pages share.
type Handlers struct{ *staffweb.Deps }
