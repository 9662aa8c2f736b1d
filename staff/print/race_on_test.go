//go:build race

package print_test

// raceDetector is true under -race, which makes the server 5 to 10 times
// slower: load tests scale their bursts down to stay within their budget.
const raceDetector = true
