package staff_test

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The plaintext number is recoverable only while its confirmation is open:
// not after a new print, not after printRefTTL.
func TestPrintNumberIsForgotten(t *testing.T) {
	t.Parallel()
	f := newPrintFixture(t, "")
	var offset atomic.Int64 // minutes after printToday, read by the server
	f.srv.App.Staff.Print.Now = func() time.Time { return printToday.Add(time.Duration(offset.Load()) * time.Minute) }
	letter := func(id int64) int {
		res, _ := f.c.Get("/staff/print/" + strconv.FormatInt(id, 10) + "/letter?lang=en")
		return res.StatusCode
	}

	first := f.print(t, f.validForm())
	if got := letter(first); got != http.StatusOK {
		t.Fatalf("letter right after printing: %d", got)
	}
	second := f.print(t, f.validForm())
	if got := letter(first); got != http.StatusNotFound {
		t.Fatalf("first letter after a new print: %d, want 404", got)
	}
	offset.Store(29)
	if got := letter(second); got != http.StatusOK {
		t.Fatalf("letter 29 minutes later: %d", got)
	}
	offset.Store(31)
	if got := letter(second); got != http.StatusNotFound {
		t.Fatalf("letter 31 minutes later: %d, want 404", got)
	}
}
