package buckets_test

import (
	"testing"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
)

// The rule in full: only an anonymized bucket leaves images out; YES and
// "not read yet" always, a missing value for the classes that often carry
// burned-in text (and an unknown class), never NO.
func TestLeftOutRule(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	const (
		ct = "1.2.840.10008.5.1.4.1.1.2"
		sc = "1.2.840.10008.5.1.4.1.1.7"
		us = "1.2.840.10008.5.1.4.1.1.6.1"
		es = "1.2.840.10008.5.1.4.1.1.77.1.1.1"
	)
	anon := buckets.Patient(&database.Bucket{Anonymized: true})
	plain := buckets.Patient(&database.Bucket{})
	staff := buckets.Staff(&database.User{})
	cases := []struct {
		f    buckets.PixelFacts
		want bool
	}{
		{buckets.PixelFacts{SOPClassUID: ct, BurnedIn: s("YES")}, true},
		{buckets.PixelFacts{SOPClassUID: ct, BurnedIn: s("NO")}, false},
		{buckets.PixelFacts{SOPClassUID: ct, BurnedIn: s("")}, false},
		{buckets.PixelFacts{SOPClassUID: ct, BurnedIn: nil}, true},
		{buckets.PixelFacts{SOPClassUID: sc, BurnedIn: s("")}, true},
		{buckets.PixelFacts{SOPClassUID: sc, BurnedIn: s("NO")}, false},
		{buckets.PixelFacts{SOPClassUID: us, BurnedIn: s("")}, true},
		{buckets.PixelFacts{SOPClassUID: es, BurnedIn: s("")}, true},
		{buckets.PixelFacts{SOPClassUID: "", BurnedIn: s("")}, true},
		{buckets.PixelFacts{SOPClassUID: "", BurnedIn: s("NO")}, false},
	}
	for _, c := range cases {
		if got := buckets.LeftOut(anon, c.f); got != c.want {
			t.Errorf("anonymized, %+v (burned %v): %v, want %v", c.f.SOPClassUID, deref(c.f.BurnedIn), got, c.want)
		}
		if buckets.LeftOut(plain, c.f) || buckets.LeftOut(staff, c.f) {
			t.Errorf("%+v left out for a plain bucket or staff", c.f)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
