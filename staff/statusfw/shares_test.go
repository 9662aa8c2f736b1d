package statusfw_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
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
	// A share's row shows what the share does now: once its access has
	// ended (blocked, expired, revoked) the access's end wins over the
	// share's own "active", in every language; a blocked or expired access
	// can open again, so an open share stays revocable until the access is
	// revoked for good.
	res, body = p.PostForm("/p/shares", url.Values{"to": {"open@example.org"}, "studies": {strconv.FormatInt(f.studiesN[0].ID, 10)},
		"dob_day": {"9"}, "dob_month": {"3"}, "dob_year": {"1961"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second share answered %d: %s", res.StatusCode, body)
	}
	rows := func() map[string]*goquery.Selection {
		t.Helper()
		out := map[string]*goquery.Selection{}
		admin.GetDoc(page, http.StatusOK).Find("[data-testid=share-row]").Each(func(_ int, r *goquery.Selection) {
			out[strings.TrimSpace(r.Find("td").First().Text())] = r
		})
		if len(out) != 2 {
			t.Fatalf("%d share rows", len(out))
		}
		return out
	}
	r := rows()
	if st, _ := r["open@example.org"].Attr("data-status"); st != "active" || r["open@example.org"].Find("[data-testid=share-revoke]").Length() != 1 {
		t.Fatalf("open share of an open access: %q, revocable %d", st, r["open@example.org"].Find("[data-testid=share-revoke]").Length())
	}
	if got := strings.TrimSpace(r["dr@example.org"].Find("[data-testid=share-status]").Text()); got != "Ended (ended by staff user nadmin)" {
		t.Fatalf("share ended by staff reads %q", got)
	}
	setLang := func(lang string) { f.srv.Exec(t, `UPDATE users SET language = ? WHERE id = ?`, lang, f.adminN.ID) }
	cases := []struct {
		name, sql, status string
		revocable         int
		want              map[string]string // language: the open share's status cell
	}{
		{"blocked", `UPDATE buckets SET state = 'blocked', failures = 5, blocked_at = now() WHERE id = ?`, "access_blocked", 1, map[string]string{
			"en": "Not opening: the bucket is blocked", "nl": "Opent niet: de bucket is geblokkeerd",
			"fr": "Ne s'ouvre pas : le bucket est bloqué", "de": "Öffnet nicht: der Bucket ist gesperrt"}},
		{"expired", `UPDATE buckets SET state = 'active', failures = 0, blocked_at = NULL, valid_until = current_date - 2 WHERE id = ?`, "access_expired", 1, map[string]string{
			"en": "Ended: the bucket has expired", "nl": "Beëindigd: de bucket is verlopen",
			"fr": "Terminé : le bucket a expiré", "de": "Beendet: der Bucket ist abgelaufen"}},
		{"revoked", `UPDATE buckets SET state = 'revoked', valid_until = current_date + 10 WHERE id = ?`, "access_revoked", 0, map[string]string{
			"en": "Ended: the bucket was revoked", "nl": "Beëindigd: de bucket is ingetrokken",
			"fr": "Terminé : le bucket a été révoqué", "de": "Beendet: der Bucket wurde widerrufen"}},
	}
	for _, tc := range cases {
		f.srv.Exec(t, tc.sql, f.patientBucket.ID)
		for _, lang := range []string{"en", "nl", "fr", "de"} {
			setLang(lang)
			r := rows()
			for to, row := range r {
				if st, _ := row.Attr("data-status"); st != tc.status {
					t.Errorf("%s, %s: share to %s is %q, want %q", tc.name, lang, to, st, tc.status)
				}
			}
			open := r["open@example.org"]
			if got := strings.TrimSpace(open.Find("[data-testid=share-status]").Text()); got != tc.want[lang] {
				t.Errorf("%s, %s: status reads %q, want %q", tc.name, lang, got, tc.want[lang])
			}
			if n := open.Find("[data-testid=share-revoke]").Length(); n != tc.revocable {
				t.Errorf("%s, %s: %d revoke buttons, want %d", tc.name, lang, n, tc.revocable)
			}
			if r["dr@example.org"].Find("[data-testid=share-revoke]").Length() != 0 {
				t.Errorf("%s, %s: an ended share can be revoked again", tc.name, lang)
			}
		}
	}
	setLang("en")
}
