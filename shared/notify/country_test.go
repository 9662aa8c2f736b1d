package notify_test

import (
	"testing"

	"github.com/radpass/radpass/shared/notify"
)

func TestSMSAllowed(t *testing.T) {
	benelux := []string{"+32", "+31", "+352"}
	tests := []struct {
		name    string
		number  string
		allowed []string
		want    bool
	}{
		{"belgian mobile", "+32470123456", benelux, true},
		{"dutch mobile", "+31612345678", benelux, true},
		{"luxembourg mobile", "+352621123456", benelux, true},
		{"german mobile, not allowed", "+4915112345678", benelux, false},
		{"german mobile, allowed", "+4915112345678", []string{"+49"}, true},
		{"prefix without plus", "+4915112345678", []string{"49"}, true},
		{"longer prefix: mobile range only", "+32470123456", []string{"+3247"}, true},
		{"longer prefix excludes", "+32470123456", []string{"+3248"}, false},
		{"region code", "+32470123456", []string{"BE"}, true},
		{"other region code", "+32470123456", []string{"NL"}, false},
		{"+1 shares a calling code: region tells apart", "+12015550123", []string{"CA"}, false},
		{"us number", "+12015550123", []string{"US"}, true},
		{"empty list allows nothing", "+32470123456", nil, false},
		{"junk prefixes are ignored", "+32470123456", []string{"", "+", "be", "+3x", "BEL"}, false},
		{"belgian fixed line", "+3292000001", benelux, false},
		{"belgian premium rate", "+32903123456", benelux, false},
		{"uk premium rate", "+449098790000", []string{"+44"}, false},
		{"invalid number", "+32123", benelux, false},
		{"not e.164: spaces", "+32 470 12 34 56", benelux, false},
		{"not e.164: no plus", "32470123456", benelux, false},
		{"not e.164: trunk zero", "+320470123456", benelux, false},
		{"garbage", "call me", benelux, false},
	}
	for _, tt := range tests {
		if got := notify.SMSAllowed(tt.number, tt.allowed); got != tt.want {
			t.Errorf("%s: SMSAllowed(%q, %q) = %v", tt.name, tt.number, tt.allowed, got)
		}
	}
}
