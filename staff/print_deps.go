package staff

import "time"

// PrintDeps is the configuration PRINT REFERENCE NUMBER needs beyond the
// database: the server key (reference-number HMAC, session sealing) and the
// patient sign-in URL printed on the letter and in its QR code.
type PrintDeps struct {
	Key       []byte
	SignInURL string           // e.g. https://radpass.example.org/
	Now       func() time.Time // nil = time.Now; tests move "today"
}

// Clock is the print clock as a function (the bucket service shares it).
func (d *PrintDeps) Clock() time.Time { return d.now() }

func (d *PrintDeps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// today is the local calendar date at midnight UTC, the form dates compare in.
func (d *PrintDeps) today() time.Time {
	y, m, dd := d.now().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}
