package apperr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/radpass/radpass/shared/apperr"
)

func TestCodeAndStatus(t *testing.T) {
	tests := []struct {
		err    error
		code   string
		status int
	}{
		{apperr.New(apperr.NotFound, "error.notfound"), apperr.NotFound, 404},
		{fmt.Errorf("wrapped: %w", apperr.New(apperr.Forbidden, "error.forbidden")), apperr.Forbidden, 403},
		{apperr.Field("reason", "print.reason.required"), apperr.Invalid, 422},
		{apperr.New(apperr.TooMany, "x"), apperr.TooMany, 429},
		{errors.New("disk on fire"), apperr.Internal, 500},
	}
	for _, tt := range tests {
		if got := apperr.CodeOf(tt.err); got != tt.code {
			t.Errorf("CodeOf(%v) = %s, want %s", tt.err, got, tt.code)
		}
		if got := apperr.Status(apperr.CodeOf(tt.err)); got != tt.status {
			t.Errorf("Status(%v) = %d, want %d", tt.err, got, tt.status)
		}
	}
}
