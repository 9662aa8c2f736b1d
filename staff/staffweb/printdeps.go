package staffweb

import "time"

// PrintDeps is the configuration PRINT REFERENCE NUMBER needs beyond the
// services: the server key (session sealing of the reference number) and
// the clock the print session ages by.
type PrintDeps struct {
	Key []byte
	Now func() time.Time // nil = time.Now; tests move the clock of prints and letters
}

// Clock is the print clock as a function (the bucket service and the
// letter printer share it).
func (d *PrintDeps) Clock() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
