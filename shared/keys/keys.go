// Package keys derives every HMAC key and keyed hash RadPass makes from the one
// server secret (RADPASS_SECRET_KEY), so no two purposes can ever produce the
// same bytes. Each purpose has one constant here; a new purpose adds one.
//
// Two shapes, both HMAC-SHA256 under the server secret with the purpose as
// the first bytes of the message:
//
//   - Derive(secret, purpose) = HMAC(secret, purpose): a sub-key for one
//     purpose (e.g. the AES key that seals the print session's number).
//   - Sum(secret, purpose, msg) = HMAC(secret, purpose || msg): a keyed hash
//     of msg in that purpose's domain. Stored reference-number and
//     session-id hashes have this shape, so its bytes must never change
//     (tests hold fixed vectors).
//
// The purpose strings are prefix-free (no purpose is a prefix of another, a
// test checks it), so purpose || msg can never be read two ways.
package keys

import (
	"crypto/hmac"
	"crypto/sha256"
)

// Purposes. Their values are part of stored data and sealed state: never
// change one; add a new constant instead.
const (
	// RefnumHash: Sum(secret, RefnumHash, canonical number) is the stored
	// lookup hash of a reference number (refnum.Hash).
	RefnumHash = "refnum:"
	// SessionID: Sum(secret, SessionID, kind+":"+id) is the stored hash of a
	// server-side session id (web.PGStore); kind is "staff", "patient", ...
	SessionID = "session:"
	// CSRF: Sum(secret, CSRF, token body) signs CSRF tokens (web.CSRFTokens).
	CSRF = "csrf:"
	// PrintSessionSeal: Derive(secret, PrintSessionSeal) is the AES-256-GCM
	// key that seals the plaintext reference number in the staff session
	// while the print confirmation is open.
	PrintSessionSeal = "print-session-seal"
	// OTPHash: Sum(secret, OTPHash, bucket id (8 bytes, big endian), code)
	// is the stored hash of a one-time password (otp.Hash).
	OTPHash = "otp-hash:v1"
	// PrintFormToken hashes the one-time token of a print form (double-submit guard).
	PrintFormToken = "print-form-token:"
	// APILetterSeal: Derive(secret, APILetterSeal) is the AES-256-GCM key that
	// seals the reference number of an access the RIS API created, while its
	// letter may be downloaded (shared/machineapi).
	APILetterSeal = "api-letter-seal"
	// ShareToken: Sum(secret, ShareToken, token) is the stored hash of a
	// share link's token (buckets.ShareTokenHash).
	ShareToken = "share-token:"
	// ShareCode: Sum(secret, ShareCode, share id (8 bytes, big endian),
	// code) is the stored hash of a doctor's one-time code.
	ShareCode = "share-code:v1"
	// ViewerLinkHash: Sum(secret, ViewerLinkHash, token) is the stored hash
	// of a viewer link's token (dicomweb.HashLink).
	ViewerLinkHash = "viewer-link:"
	// AnonUIDs: Sum(secret, AnonUIDs, bucket id (8 bytes, big endian)) keys
	// the de-identified UIDs of an anonymized bucket, so its ZIP and its
	// DICOMweb answers name every study, series and instance the same.
	AnonUIDs = "anon-uids:"
	// ShareAddress: Sum(secret, ShareAddress, normalized address) keys the
	// per-address count of a doctor's codes (buckets.ShareAddressHash), so
	// the counter never holds an address in clear.
	ShareAddress = "share-address:v1"
)

// Purposes lists every purpose constant (tests check they are prefix-free).
var Purposes = []string{RefnumHash, SessionID, CSRF, PrintSessionSeal, OTPHash, PrintFormToken, APILetterSeal, ShareToken, ShareCode, ViewerLinkHash, AnonUIDs, ShareAddress}

// Derive returns the 32-byte key of one purpose: HMAC-SHA256(secret, purpose).
func Derive(secret []byte, purpose string) []byte {
	return Sum(secret, purpose)
}

// Sum returns HMAC-SHA256(secret, purpose || msg[0] || msg[1] ...): a keyed
// hash of msg in the domain of purpose.
func Sum(secret []byte, purpose string, msg ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	for _, p := range msg {
		m.Write(p)
	}
	return m.Sum(nil)
}
