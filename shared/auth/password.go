// Package auth holds staff credentials: argon2id password hashes and the
// per-account sign-in throttle.
package auth

import (
	"sync"

	"github.com/alexedwards/argon2id"
)

// Params are argon2id settings sized for a 2-core server: ~50 ms a hash.
var Params = &argon2id.Params{Memory: 64 * 1024, Iterations: 2, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// MinPasswordLength for staff passwords.
const MinPasswordLength = 10

// HashPassword returns an encoded argon2id hash.
func HashPassword(pw string) (string, error) { return argon2id.CreateHash(pw, Params) }

// CheckPassword compares pw to an encoded hash in constant time.
func CheckPassword(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// dummyHash is compared against when the account does not exist, so an unknown
// username costs the same time as a wrong password. It is made on first use,
// not at start-up: one argon2id hash takes 64 MB, which an idle server (and
// every CLI command) should not carry.
var (
	dummyOnce sync.Once
	dummyHash string
)

// CheckNoUser burns the time of a password check for a missing account.
func CheckNoUser(pw string) {
	dummyOnce.Do(func() { dummyHash, _ = HashPassword("radpass-timing-equaliser") })
	CheckPassword(pw, dummyHash)
}
