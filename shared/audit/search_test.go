package audit

import (
	"testing"
	"time"
)

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "plain": "plain", "=1+2": "'=1+2", "+32 470": "'+32 470", "-5": "'-5", "@SUM(A1)": "'@SUM(A1)",
		"\t=cmd": "'\t=cmd", "\r=cmd": "'\r=cmd", "a=b": "a=b", "'quoted": "'quoted",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 30, 4, 5, 6, 789000, time.UTC)
	c := encodeCursor(at, 42)
	got, id, err := decodeCursor(c)
	if err != nil || !got.Equal(at) || id != 42 {
		t.Fatalf("decode %q = %v %d %v", c, got, id, err)
	}
	for _, bad := range []string{"", "x", "1-", "-1", "1-2-3", "'; DROP TABLE audit_events; --", "99999999999999999999999-1"} {
		if _, _, err := decodeCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

func TestKnownAction(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Actions {
		if seen[a] {
			t.Errorf("%s listed twice", a)
		}
		seen[a] = true
		if !KnownAction(a) {
			t.Errorf("%s not known", a)
		}
	}
	if KnownAction("no.such") || KnownAction("") {
		t.Error("unknown action accepted")
	}
}
