package statusfw_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// Staff see a bucket's shares with doctors in Status Forwarding; its
// department's admin revokes one, plain staff may look but not revoke, and
// another department's admin gets 404 for both.
func TestStatusForwardingShares(t *testing.T) {
	f := newFixture(t)
	p := f.clients["patient"]
	p.Get("/p/shares/new")
	res, body := p.PostForm("/p/shares", url.Values{"to": {"dr@example.org"}, "studies": {strconv.FormatInt(f.studiesN[0].ID, 10)},
		"dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("share answered %d: %s", res.StatusCode, body)
	}
	page := "/staff/status/" + strconv.FormatInt(f.patientBucket.ID, 10) + "/shares"
	if res, _ := f.clients["other admin"].Get(page); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another department's admin got %d", res.StatusCode)
	}
	doc := f.clients["staff"].GetDoc(page, http.StatusOK)
	if doc.Find("[data-testid=share-row]").Length() != 1 || doc.Find("[data-testid=share-revoke]").Length() != 0 {
		t.Fatal("plain staff: one share, no revoke button")
	}
	sid, _ := doc.Find("[data-testid=share-row]").Attr("data-share")
	revoke := page + "/" + sid + "/revoke"
	if res, _ := f.clients["staff"].PostForm(revoke, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("plain staff revoke answered %d", res.StatusCode)
	}
	admin := f.clients["admin"]
	if admin.GetDoc(page, http.StatusOK).Find("[data-testid=share-revoke]").Length() != 1 {
		t.Fatal("the admin has no revoke button")
	}
	if res, _ := f.clients["other admin"].PostForm(revoke, url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("another department's admin revoke answered %d", res.StatusCode)
	}
	if res, _ := admin.PostForm(revoke, url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin revoke answered %d", res.StatusCode)
	}
	if st, _ := admin.GetDoc(page, http.StatusOK).Find("[data-testid=share-row]").Attr("data-status"); st != "revoked" {
		t.Fatalf("share is %q after the revoke", st)
	}
	var by string
	if err := f.srv.DB.NewRaw(`SELECT actor_name FROM audit_events WHERE action = 'share.revoke' AND bucket_id = ?`, f.patientBucket.ID).Scan(t.Context(), &by); err != nil || by != "nadmin" {
		t.Fatalf("revoke recorded by %q (%v)", by, err)
	}
}
