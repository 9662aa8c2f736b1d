package deid_test

import (
	"regexp"
	"testing"

	"github.com/radpass/radpass/shared/dicom/deid"
)

// A keyed map gives a UID the same replacement in every map of its key
// (the ZIP and the DICOMweb answers of one access), another one under
// another key, and valid UIDs (2.25.<decimal>, at most 64 characters).
func TestKeyedUIDMap(t *testing.T) {
	a, b := deid.NewKeyedUIDMap([]byte("access-1")), deid.NewKeyedUIDMap([]byte("access-1"))
	other := deid.NewKeyedUIDMap([]byte("access-2"))
	valid := regexp.MustCompile(`^2\.25\.(0|[1-9][0-9]*)$`)
	for _, uid := range []string{"1.2.840.113619.2.55.3.1", "1.2.3\x00", "1.2.3 "} {
		x := a.Map(uid)
		if x != b.Map(uid) || x != deid.KeyedUID([]byte("access-1"), uid) {
			t.Fatalf("%q: %s and %s under one key", uid, x, b.Map(uid))
		}
		if x == other.Map(uid) || !valid.MatchString(x) || len(x) > 64 || !a.IsNew(x) {
			t.Fatalf("%q -> %s (other key %s)", uid, x, other.Map(uid))
		}
	}
	if a.Map("1.2.3") != a.Map("1.2.3\x00") {
		t.Fatal("padding changes the replacement")
	}
	if deid.NewUIDMap().Map("1.2.3") == deid.NewUIDMap().Map("1.2.3") {
		t.Fatal("unkeyed maps agree")
	}
}
