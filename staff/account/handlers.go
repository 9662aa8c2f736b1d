// Package account holds the staff sign-in (signin.go), sign-out
// (signout.go) and the password change a reset asks for before the sign-in
// completes (password_change.go). The sign-in protocol itself is
// users.SignIn.
package account

import "github.com/radpass/radpass/staff/staffweb"

// Handlers are the account handlers, over the services all staff pages share.
type Handlers struct{ *staffweb.Deps }
