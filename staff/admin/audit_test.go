package admin_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

func record(t *testing.T, srv *testserver.Server, e *audit.Event) {
	t.Helper()
	if err := audit.Record(context.Background(), srv.DB, e); err != nil {
		t.Fatal(err)
	}
}

// The audit page searches by actor, action, patient, study and bucket within
// the admin's department, pages by keyset, and exports the same search as
// CSV with formula-looking cells defused.
func TestAuditTrailSearchAndCSV(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t)
	d := testserver.MustDepartment(t, srv.DB, "NORTH")
	o := testserver.MustDepartment(t, srv.DB, "SOUTH")
	_, c := srv.SignedIn(t, "adam", database.RoleAdmin, d)
	s := testserver.MustPatientStudy(t, srv.DB, d, "PAT-7", "Peeters", "Ann", nil)
	other := testserver.MustPatientStudy(t, srv.DB, d, "PAT-8", "Janssens", "Bart", nil)
	// 60 study views by "viewer" (more than a page), and a few special ones.
	for i := 0; i < 60; i++ {
		record(t, srv, &audit.Event{Action: audit.StudyView, ActorKind: "staff", ActorName: "viewer", DepartmentID: &d.ID,
			Details: map[string]any{"study_id": other.ID, "n": i}})
	}
	record(t, srv, &audit.Event{Action: audit.ReportView, ActorKind: "staff", ActorName: "=cmd|' /C calc'!A0", DepartmentID: &d.ID,
		IP: "+1.2.3.4", Details: map[string]any{"study_id": s.ID}})
	record(t, srv, &audit.Event{Action: audit.LabelAdd, ActorKind: "staff", ActorName: "@evil", DepartmentID: &d.ID,
		Details: map[string]any{"study_id": s.ID, "label": "-2+3"}})
	record(t, srv, &audit.Event{Action: audit.StudyView, ActorKind: "staff", ActorName: "south.user", DepartmentID: &o.ID,
		Details: map[string]any{"study_id": s.ID, "secret": "SOUTH-ONLY"}})

	doc := c.GetDoc("/staff/audit?actor=viewer", http.StatusOK)
	if n := doc.Find(`[data-testid="audit-events"] tbody tr`).Length(); n != audit.PageSize {
		t.Fatalf("first page: %d rows", n)
	}
	next, ok := doc.Find(`[data-testid="next"]`).Attr("href")
	if !ok {
		t.Fatal("no next page")
	}
	seen := map[string]bool{}
	doc.Find(`tbody tr`).Each(func(_ int, r *goquery.Selection) { seen[r.AttrOr("data-event", "")] = true })
	doc = c.GetDoc(next, http.StatusOK)
	if n := doc.Find(`tbody tr`).Length(); n != 10 || doc.Find(`[data-testid="next"]`).Length() != 0 {
		t.Fatalf("second page: %d rows", n)
	}
	doc.Find(`tbody tr`).Each(func(_ int, r *goquery.Selection) {
		if seen[r.AttrOr("data-event", "")] {
			t.Errorf("event %s on both pages", r.AttrOr("data-event", ""))
		}
	})
	// By patient ID and by accession: the events of that patient's study only.
	for _, q := range []string{"patient=PAT-7", "study=" + s.Accession, "study=" + s.StudyUID} {
		doc := c.GetDoc("/staff/audit?"+q, http.StatusOK)
		if n := doc.Find(`tbody tr`).Length(); n != 2 {
			t.Errorf("%s: %d rows, want 2 (own department only)", q, n)
		}
	}
	if n := c.GetDoc("/staff/audit?action="+audit.LabelAdd, http.StatusOK).Find(`tbody tr`).Length(); n != 1 {
		t.Errorf("action filter: %d rows", n)
	}
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	if n := c.GetDoc("/staff/audit?from="+tomorrow, http.StatusOK).Find(`tbody tr`).Length(); n != 0 {
		t.Errorf("from tomorrow: %d rows", n)
	}
	if res, _ := c.Get("/staff/audit?action=no.such"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("unknown action: %d", res.StatusCode)
	}
	if res, _ := c.Get("/staff/audit?bucket=abc"); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad bucket: %d", res.StatusCode)
	}

	res, body := c.Get("/staff/audit.csv?study=" + s.Accession)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("csv: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(audit.CSVHeader, ",") {
		t.Fatalf("csv rows %v", recs)
	}
	// Newest first: the label event, then the report view.
	la, rv := recs[1], recs[2]
	if la[1] != audit.LabelAdd || la[5] != "'@evil" || !strings.Contains(la[9], `"label":"-2+3"`) || !strings.Contains(la[9], `"study_id":`+strconv.FormatInt(s.ID, 10)) {
		t.Errorf("label row %q", la)
	}
	if rv[1] != audit.ReportView || rv[5] != "'=cmd|' /C calc'!A0" || rv[8] != "'+1.2.3.4" || rv[6] != strconv.FormatInt(d.ID, 10) {
		t.Errorf("report row %q", rv)
	}
	if _, err := time.Parse(time.RFC3339Nano, rv[0]); err != nil {
		t.Errorf("time %q: %v", rv[0], err)
	}
	if strings.Contains(body, "SOUTH-ONLY") {
		t.Error("another department's event in the export")
	}
	// The whole trail: 62 events of this department plus the sign-in and
	// the export events written meanwhile; never the other department's.
	_, all := c.Get("/staff/audit.csv")
	recs, err = csv.NewReader(strings.NewReader(all)).ReadAll()
	if err != nil || len(recs) < 63 || strings.Contains(all, "SOUTH-ONLY") {
		t.Fatalf("full export: %d rows, err %v", len(recs), err)
	}
	if auditCount(t, srv, audit.AuditExport, "adam") != 2 {
		t.Error("exports not audited")
	}
}
