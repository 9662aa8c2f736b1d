package admin_test

import (
	"os"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/auth"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// TestMain gives sign-ins a long wait for a hash slot: under -race on a busy
// machine a hash takes a second, and the parallel tests of this package sign
// in together; a 503 "busy" would make them flaky, not wrong. Password
// hashes are light here (testserver.UseLightHashes says why).
func TestMain(m *testing.M) {
	auth.HashWait = 2 * time.Minute
	testserver.UseLightHashes()
	os.Exit(m.Run())
}
