//go:build race

package main

// raceFlags build the binary under test as the test itself is built: under
// `go test -race` (make test) every package is already compiled with -race,
// so the binary costs a link, not a second compile of the whole app.
var raceFlags = []string{"-race"}
