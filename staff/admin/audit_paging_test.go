package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// The audit trail pages back as it pages forward: Next twice, then Previous
// twice, shows the same rows on each page, with Previous only where there are
// newer events and Next only where there are older ones.
func TestAuditTrailPagesBack(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	_, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	// 130 events by "viewer" (2½ pages); several share one timestamp, so
	// the id breaks ties in both directions.
	if _, err := srv.DB.ExecContext(t.Context(), `INSERT INTO audit_events (at, action, actor_kind, actor_name, department_id, details)
		SELECT '2026-01-01'::timestamptz + (g / 3) * interval '1 second', 'study.view', 'staff', 'viewer', ?, jsonb_build_object('n', g)
		FROM generate_series(1, 130) g`, d.ID); err != nil {
		t.Fatal(err)
	}
	type page struct {
		rows       string // the events' ids in order
		n          int
		prev, next string
	}
	get := func(url string) page {
		t.Helper()
		doc := c.GetDoc(url, http.StatusOK)
		var ids []string
		doc.Find(`[data-testid="audit-events"] tbody tr`).Each(func(_ int, r *goquery.Selection) {
			ids = append(ids, r.AttrOr("data-event", "?"))
		})
		prev, _ := doc.Find(`[data-testid="prev"]`).Attr("href")
		next, _ := doc.Find(`[data-testid="next"]`).Attr("href")
		return page{rows: strings.Join(ids, ","), n: len(ids), prev: prev, next: next}
	}
	p1 := get("/staff/audit?actor=viewer")
	if p1.n != audit.PageSize || p1.prev != "" || p1.next == "" {
		t.Fatalf("first page: %d rows, prev %q, next %q", p1.n, p1.prev, p1.next)
	}
	p2 := get(p1.next)
	if p2.n != audit.PageSize || p2.prev == "" || p2.next == "" || p2.rows == p1.rows {
		t.Fatalf("second page: %d rows, prev %q, next %q", p2.n, p2.prev, p2.next)
	}
	p3 := get(p2.next)
	if p3.n != 30 || p3.prev == "" || p3.next != "" {
		t.Fatalf("third page: %d rows, prev %q, next %q", p3.n, p3.prev, p3.next)
	}
	if !strings.Contains(p3.prev, "actor=viewer") {
		t.Errorf("previous link %q lost the search", p3.prev)
	}
	back2 := get(p3.prev)
	if back2.rows != p2.rows || back2.prev == "" || back2.next == "" {
		t.Fatalf("back to the second page:\n got  %s\n want %s\n prev %q next %q", back2.rows, p2.rows, back2.prev, back2.next)
	}
	back1 := get(back2.prev)
	if back1.rows != p1.rows || back1.prev != "" || back1.next == "" {
		t.Fatalf("back to the first page:\n got  %s\n want %s\n prev %q next %q", back1.rows, p1.rows, back1.prev, back1.next)
	}
	if again := get(back1.next); again.rows != p2.rows {
		t.Fatalf("forward again from the first page: got %s, want %s", again.rows, p2.rows)
	}
	// A forged cursor shows the first page, as for Next.
	if p := get("/staff/audit?actor=viewer&before=x"); p.rows != p1.rows {
		t.Fatalf("a bad cursor: %s", p.rows)
	}
}
