package users_test

import (
	"os"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

// TestMain makes password hashes light (testserver.UseLightHashes says why).
func TestMain(m *testing.M) {
	testserver.UseLightHashes()
	os.Exit(m.Run())
}
