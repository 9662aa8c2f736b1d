package web_test

import (
	"testing"

	"github.com/radpass/radpass/shared/web"
)

func TestLocalPath(t *testing.T) {
	tests := []struct{ in, prefix, want string }{
		{"/staff/?q=x", "/staff/", "/staff/?q=x"},
		{"/", "/", "/"},
		{"/patient", "/staff/", "/staff/"},
		{"//evil.example", "/", "/"},
		{"/\\evil.example", "/", "/"},
		{"/\t/evil.example", "/", "/"},
		{"https://evil.example/staff/", "/staff/", "/staff/"},
		{"", "/", "/"},
		{"relative", "/", "/"},
	}
	for _, tt := range tests {
		fallback := tt.prefix
		if got := web.LocalPath(tt.in, tt.prefix, fallback); got != tt.want {
			t.Errorf("LocalPath(%q, %q) = %q, want %q", tt.in, tt.prefix, got, tt.want)
		}
	}
}
