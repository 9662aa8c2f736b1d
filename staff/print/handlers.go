// Package print holds PRINT REFERENCE NUMBER: the form and its submit
// (form.go, form_parse.go, selection.go), the confirmation (confirm.go),
// the letter PDF (letter.go) and the sealed number kept in the session for
// the confirmation (session.go). The print rules are buckets.PrintForm and
// buckets.Create; the letter is shared/printing and shared/letter.
package print

import "github.com/radpass/radpass/staff/staffweb"

// Handlers are the print handlers, over the services all staff pages share.
type Handlers struct{ *staffweb.Deps }
