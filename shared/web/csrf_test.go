package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/web"
)

func TestCSRFTokens(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	clock := now
	tok := &web.CSRFTokens{Key: []byte("0123456789abcdef0123456789abcdef"), MaxAge: 12 * time.Hour, Now: func() time.Time { return clock }}
	other := &web.CSRFTokens{Key: []byte("another key, another server!!!!!"), MaxAge: 12 * time.Hour, Now: tok.Now}
	good := tok.Generate()
	if good == tok.Generate() {
		t.Fatal("two tokens are equal")
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name  string
		token string
		at    time.Duration // clock offset when checking
		want  bool
	}{
		{"fresh", good, 0, true},
		{"11 hours old", good, 11 * time.Hour, true},
		{"12 hours old", good, 12 * time.Hour, false},
		{"from the future", good, -2 * time.Minute, false},
		{"random part changed", flip(good, 0), 0, false},
		{"time changed", strings.Replace(good, ".", ".1", 1), 0, false},
		{"signature changed", flip(good, len(good)-1), 0, false},
		{"signed by another key", other.Generate(), 0, false},
		{"empty", "", 0, false},
		{"no dots", "abcdef", 0, false},
		{"only dots", "..", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock = now.Add(tt.at)
			defer func() { clock = now }()
			if got := tok.Valid(tt.token); got != tt.want {
				t.Fatalf("Valid = %v, want %v", got, tt.want)
			}
			raw, err := tok.Get(tt.token)
			if err != nil || (raw != nil) != tt.want {
				t.Fatalf("storage Get = %v, %v", raw, err)
			}
		})
	}
}

// A token is bound to the session it was made for: it is refused for another
// session and for none, and a signed-out token is refused once signed in.
func TestCSRFTokensBoundToSession(t *testing.T) {
	tok := &web.CSRFTokens{Key: []byte("0123456789abcdef0123456789abcdef"), MaxAge: 12 * time.Hour, Now: time.Now}
	anon, a, b := tok.GenerateFor(""), tok.GenerateFor("session-a"), tok.GenerateFor("session-b")
	tests := []struct {
		token, binding string
		want           bool
	}{
		{anon, "", true},
		{anon, "session-a", false},
		{a, "session-a", true},
		{a, "session-b", false},
		{a, "", false},
		{b, "session-a", false},
		{b, "session-b", true},
	}
	for i, tt := range tests {
		if got := tok.ValidFor(tt.token, tt.binding); got != tt.want {
			t.Errorf("case %d: ValidFor(token, %q) = %v, want %v", i, tt.binding, got, tt.want)
		}
	}
	if tok.Valid(a) {
		t.Error("a session's token passes as a signed-out one")
	}
}
