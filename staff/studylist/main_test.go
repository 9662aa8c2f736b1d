package studylist_test

import (
	"os"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/auth"
)

// TestMain gives sign-ins a long wait for a hash slot: under -race on a busy
// machine a hash takes a second, and the parallel tests of this package sign
// in together; a 503 "busy" would make them flaky, not wrong.
func TestMain(m *testing.M) {
	auth.HashWait = 2 * time.Minute
	os.Exit(m.Run())
}
