//go:build !race

package dicomzip_test

const raceEnabled = false
