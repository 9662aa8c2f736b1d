package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/radpass/radpass/shared/testkit/testserver"
)

func auditCount(t *testing.T, srv *testserver.Server, action, actor string) int {
	t.Helper()
	n, err := srv.DB.NewSelect().Table("audit_events").Where("action = ? AND actor_name = ?", action, actor).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func countSessions(t *testing.T, srv *testserver.Server) int {
	t.Helper()
	n, err := srv.DB.NewSelect().Table("sessions").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// expectSignInRedirect asserts that res sends the browser to the sign-in page.
func expectSignInRedirect(t *testing.T, res *http.Response, body string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/signin") {
		t.Fatalf("want a redirect to sign-in, got %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
}
