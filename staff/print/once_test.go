package print_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/refnum"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

// Issue 9 item 6: one form submitted 20 times at once (a double click, a
// nervous user) in one session prints once; every submit lands on that
// print's confirmation, which still shows the number.
func TestParallelSubmitsOfOneFormPrintOnce(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	p := newPoster(t, f, f.C)
	token, ok := f.OpenForm(t).Find(`form#print-form input[name=form_token]`).Attr("value")
	if !ok || len(token) < 16 {
		t.Fatalf("the form carries no one-time token (%q)", token)
	}
	p.form.Set("form_token", token)
	p.form.Set("_csrf", f.C.CSRF)
	const n = 20
	results := make([]testserver.Shot, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			results[i] = f.Srv.Send(p.hc, http.MethodPost, "/staff/print", p.form)
		}(i)
	}
	close(gate)
	wg.Wait()
	var to string
	for i, s := range results {
		if s.Err != nil || s.Status != http.StatusSeeOther {
			t.Fatalf("submit %d: status %d, error %v", i, s.Status, s.Err)
		}
		if !printRedirect.MatchString(s.Loc) {
			t.Fatalf("submit %d redirects to %q", i, s.Loc)
		}
		if to == "" {
			to = s.Loc
		}
		if s.Loc != to {
			t.Fatalf("submits went to %q and %q", to, s.Loc)
		}
	}
	for _, table := range []string{"buckets", "bucket_studies"} {
		want := map[string]int{"buckets": 1, "bucket_studies": len(f.Studies)}[table]
		if got := f.Srv.Count(t, `SELECT count(*) FROM `+table); got != want {
			t.Errorf("%d rows in %s after 20 submits of one form, want %d", got, table, want)
		}
	}
	if got := f.Srv.Count(t, `SELECT count(*) FROM audit_events WHERE action = 'bucket.print'`); got != 1 {
		t.Errorf("%d print events, want 1", got)
	}
	doc := f.C.GetDoc(to, http.StatusOK)
	if ref := strings.TrimSpace(doc.Find(`[data-testid=refnum]`).Text()); ref == "" {
		t.Error("the confirmation lost the number")
	} else if _, err := refnum.Parse(ref); err != nil {
		t.Errorf("the confirmation shows %q: %v", ref, err)
	}
	// The same form once more, later: still that print, nothing new.
	if res, _ := f.C.PostForm("/staff/print", p.form); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != to {
		t.Fatalf("a late resubmit: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := f.Srv.Count(t, `SELECT count(*) FROM buckets`); got != 1 {
		t.Fatalf("%d buckets after a late resubmit", got)
	}
	// A fresh form (new token) prints anew.
	fresh, _ := f.OpenForm(t).Find(`form#print-form input[name=form_token]`).Attr("value")
	if fresh == token {
		t.Fatal("a new form got the same token")
	}
	p.form.Set("form_token", fresh)
	if id := f.Print(t, p.form); strconv.FormatInt(id, 10) == strings.TrimPrefix(to, "/staff/print/") {
		t.Fatal("a new form answered the old print")
	}
}

// sessionRefs finds the staff session keeping the number of bucket id and
// returns its decoded values and id hash.
func sessionRefs(t *testing.T, srv *testserver.Server, id int64) (map[any]any, []byte) {
	t.Helper()
	var rows []struct {
		IDHash []byte `bun:"id_hash"`
		Data   []byte `bun:"data"`
	}
	if err := srv.DB.NewRaw(`SELECT id_hash, data FROM sessions WHERE kind = 'staff'`).Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		vals := map[any]any{}
		if err := gob.NewDecoder(bytes.NewReader(r.Data)).Decode(&vals); err != nil {
			t.Fatal(err)
		}
		if refs, ok := vals["print.refs"].(map[string]string); ok && refs[strconv.FormatInt(id, 10)] != "" {
			return vals, r.IDHash
		}
	}
	t.Fatal("no session keeps a printed number")
	return nil, nil
}

// Issue 9 item 16: the sealed number in the session opens only for the
// bucket it was sealed for. Moving it to another bucket of the same user (as
// someone with write access to the sessions table could) shows no number and
// no letter for either.
func TestSealedNumberIsBoundToItsBucket(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	// Bucket "other" first, from another browser of the same user, so this
	// session keeps only "mine".
	other := f.Srv.Client(t)
	other.SignIn("ann", testserver.Password)
	oc := &testserver.PrintFixture{Srv: f.Srv, Dept: f.Dept, User: f.User, C: other, Studies: f.Studies}
	otherID := oc.Print(t, oc.ValidForm())
	mine := f.Print(t, f.ValidForm())
	letter := func(id int64) int {
		res, _ := f.C.Get("/staff/print/" + strconv.FormatInt(id, 10) + "/letter?lang=en")
		return res.StatusCode
	}
	if got := letter(mine); got != http.StatusOK {
		t.Fatalf("own letter: %d", got)
	}
	if got := letter(otherID); got != http.StatusNotFound {
		t.Fatalf("letter of a bucket this session did not print: %d", got)
	}

	vals, idHash := sessionRefs(t, f.Srv, mine)
	refs := vals["print.refs"].(map[string]string)
	sealed, ok := refs[strconv.FormatInt(mine, 10)]
	if !ok || len(refs) != 1 {
		t.Fatalf("session refs %v, want only bucket %d", refs, mine)
	}
	vals["print.refs"] = map[string]string{strconv.FormatInt(otherID, 10): sealed}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(vals); err != nil {
		t.Fatal(err)
	}
	f.Srv.Exec(t, `UPDATE sessions SET data = ? WHERE id_hash = ?`, buf.Bytes(), idHash)

	if got := letter(otherID); got != http.StatusNotFound {
		t.Fatalf("a sealed number moved to bucket %d printed a letter: %d", otherID, got)
	}
	if ref := f.C.GetDoc("/staff/print/"+strconv.FormatInt(otherID, 10), http.StatusOK).Find(`[data-testid=refnum]`).Text(); ref != "" {
		t.Fatalf("a sealed number moved to another bucket is shown: %q", ref)
	}
	if got := letter(mine); got != http.StatusNotFound {
		t.Fatalf("own letter after its number was moved away: %d", got)
	}
}

// No table holds a printed number in plaintext, in any spelling, after
// prints through the real handlers: text columns as text, bytea columns
// (the session data among them) as raw bytes.
func TestNoPlaintextNumberAtRest(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	var numbers []string
	for _, lang := range []string{"en", "fr"} {
		form := f.ValidForm()
		form.Set("language", lang)
		id := f.Print(t, form)
		ref := strings.TrimSpace(f.C.GetDoc("/staff/print/"+strconv.FormatInt(id, 10), http.StatusOK).Find(`[data-testid=refnum]`).Text())
		n, err := refnum.Parse(ref)
		if err != nil {
			t.Fatalf("confirmation shows %q: %v", ref, err)
		}
		numbers = append(numbers, n.Canonical(), n.Grouped())
		// The letter was fetched too (it writes an audit row).
		if res, _ := f.C.Get("/staff/print/" + strconv.FormatInt(id, 10) + "/letter?lang=" + lang); res.StatusCode != http.StatusOK {
			t.Fatalf("letter: %d", res.StatusCode)
		}
	}
	ctx := context.Background()
	var cols []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
		Type   string `bun:"data_type"`
	}
	if err := f.Srv.DB.NewRaw(`SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'`).Scan(ctx, &cols); err != nil {
		t.Fatal(err)
	}
	var dump bytes.Buffer
	sessions := 0
	for _, c := range cols {
		var vals [][]byte
		expr := "?::text"
		if c.Type == "bytea" {
			expr = "?"
		}
		if err := f.Srv.DB.NewRaw(`SELECT `+expr+` FROM ? WHERE ? IS NOT NULL`, bun.Ident(c.Column), bun.Ident(c.Table), bun.Ident(c.Column)).Scan(ctx, &vals); err != nil {
			t.Fatalf("dump %s.%s: %v", c.Table, c.Column, err)
		}
		for _, v := range vals {
			dump.Write(bytes.ToUpper(v))
			dump.WriteByte('\n')
			if c.Table == "sessions" && c.Column == "data" {
				sessions++
			}
		}
	}
	if sessions == 0 || !bytes.Contains(dump.Bytes(), []byte("PATIENT ASKED FOR THE IMAGES")) {
		t.Fatal("the dump lacks the prints or the sessions (the check would prove nothing)")
	}
	for _, n := range numbers {
		if bytes.Contains(dump.Bytes(), []byte(strings.ToUpper(n))) {
			t.Fatalf("a printed number is stored in plaintext (%d columns dumped)", len(cols))
		}
	}
}

// 150 submits of one form at once (a retrying client): the letter is
// rendered once, before the first print is stored, and never for the
// repeats, which answer with that print. Before, every submit rendered its
// letter (about 11 MB each) before the form token was looked at: 150 at once
// took 1.22 GB.
func TestRepeatedFormTokenRendersNoLetter(t *testing.T) {
	t.Parallel()
	f := testserver.NewPrintFixture(t, "")
	p := newPoster(t, f, f.C)
	token, _ := f.OpenForm(t).Find(`form#print-form input[name=form_token]`).Attr("value")
	p.form.Set("form_token", token)
	p.form.Set("_csrf", f.C.CSRF)
	before := f.Srv.App.Buckets.Letters.Renders()
	n := 150
	if raceDetector {
		n = 60
	}
	results := make([]testserver.Shot, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			results[i] = f.Srv.Send(p.hc, http.MethodPost, "/staff/print", p.form)
		}(i)
	}
	close(gate)
	wg.Wait()
	for i, s := range results {
		if s.Err != nil || s.Status != http.StatusSeeOther || s.Loc != results[0].Loc {
			t.Fatalf("submit %d: status %d to %q (first %q), error %v", i, s.Status, s.Loc, results[0].Loc, s.Err)
		}
	}
	if got := f.Srv.App.Buckets.Letters.Renders() - before; got != 1 {
		t.Errorf("%d letters rendered for %d submits of one form, want 1", got, n)
	}
	if got := f.Srv.Count(t, `SELECT count(*) FROM buckets`); got != 1 {
		t.Errorf("%d buckets, want 1", got)
	}
	// A resubmit later renders nothing either.
	if res, _ := f.C.PostForm("/staff/print", p.form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a late resubmit: status %d", res.StatusCode)
	}
	if got := f.Srv.App.Buckets.Letters.Renders() - before; got != 1 {
		t.Errorf("a late resubmit rendered a letter (%d in all)", got)
	}
	// A reprint in another language renders, under the same bound.
	if res, _ := f.C.Get(results[0].Loc + "/letter?lang=de"); res.StatusCode != http.StatusOK {
		t.Fatalf("reprint in German: status %d", res.StatusCode)
	}
	if got := f.Srv.App.Buckets.Letters.Renders() - before; got != 2 {
		t.Errorf("%d letters rendered after a reprint, want 2 (the reprint passes the render gate)", got)
	}
}
