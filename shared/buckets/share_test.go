package buckets_test

import (
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/notify"
)

var sixDigitsRE = regexp.MustCompile(`\b[0-9]{6}\b`)

// shareOf creates a share of p's bucket to "to" with studies (all when
// nil) and sends its link through the dev outbox.
func (f *fixture) shareOf(p printed, to string, studies []int64) *buckets.NewShare {
	f.t.Helper()
	ns, err := f.tryShare(p, to, studies)
	if err != nil {
		f.t.Fatalf("share: %v", err)
	}
	return ns
}

func (f *fixture) tryShare(p printed, to string, studies []int64) (*buckets.NewShare, error) {
	f.t.Helper()
	if studies == nil {
		studies = buckets.StudyIDs(f.studies)
	}
	b := f.bucket(p.b.ID)
	b.Department = f.north
	form := buckets.ShareForm{To: to}
	for _, id := range studies {
		form.Studies = append(form.Studies, itoa(id))
	}
	r, errs := form.Check(f.s.Today(), b, buckets.StudyIDs(f.studies))
	if errs != nil {
		f.t.Fatalf("share form: %v", errs)
	}
	ns, err := f.s.CreateShare(f.ctx, p.b.ID, r, birth, "192.0.2.9")
	if err != nil {
		return nil, err
	}
	if ns.Outcome != buckets.ShareCreated {
		f.t.Fatalf("share outcome %v", ns.Outcome)
	}
	if err := f.s.SendShareLink(f.ctx, f.outbox(), ns, "https://radpass.example/s/"+ns.Token, "192.0.2.9"); err != nil {
		f.t.Fatal(err)
	}
	return ns, nil
}

func (f *fixture) outbox() *notify.Outbox { return &notify.Outbox{DB: f.db} }

// lastCode is the newest code sent to dest in the dev outbox.
func (f *fixture) lastCode(dest string) string {
	f.t.Helper()
	msgs, err := f.outbox().Recent(f.ctx, 50)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == dest {
			if c := sixDigitsRE.FindString(m.Text); c != "" {
				return c
			}
		}
	}
	f.t.Fatalf("no code for %s", dest)
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func auditPatient(p printed) audit.Actor { return audit.Patient(&p.b.ID, "192.0.2.9") }

// 50 parallel wrong codes on a fresh share: exactly MaxFailures are
// compared and counted, the share is blocked (one block row), the others
// are refused like an unknown link, the right code no longer opens it, and
// the patient's own access is untouched (security requirement 5, per share).
func TestShareCodeParallelWrongBlocksAtFive(t *testing.T) {
	f := newFixture(t)
	p := f.print(database.VerifyDOB, nil, nil)
	ns := f.shareOf(p, "dr@example.org", nil)
	if err := f.s.SendShareCode(f.ctx, f.outbox(), ns.Share.ID, "192.0.2.10"); err != nil {
		t.Fatal(err)
	}
	code := f.lastCode("dr@example.org")
	// Fifty pool connections open first, and every check released at once:
	// the checks really overlap (else new connections stagger them).
	var warm sync.WaitGroup
	for range 50 {
		warm.Add(1)
		go func() { defer warm.Done(); _, _ = f.db.ExecContext(f.ctx, `SELECT pg_sleep(0.2)`) }()
	}
	warm.Wait()
	release := make(chan struct{})
	var (
		wg                       sync.WaitGroup
		mu                       sync.Mutex
		counted, refused, others int
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			a, err := f.s.CheckShareCode(f.ctx, ns.Share.ID, otherCode(code), "192.0.2.11", nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, buckets.ErrNotFound):
				refused++
			case err == nil && !a.Open:
				counted++
			default:
				others++
				t.Errorf("wrong code: %v %+v", err, a)
			}
		}()
	}
	close(release)
	wg.Wait()
	if counted != buckets.MaxFailures || refused != 50-buckets.MaxFailures {
		t.Fatalf("%d counted, %d refused, want %d and %d", counted, refused, buckets.MaxFailures, 50-buckets.MaxFailures)
	}
	if n := f.count(`SELECT failures FROM shares WHERE id = ?`, ns.Share.ID); n != buckets.MaxFailures {
		t.Fatalf("share failures %d", n)
	}
	if n := f.events(p.b.ID, "share.code_fail", ""); n != buckets.MaxFailures {
		t.Fatalf("%d code_fail rows", n)
	}
	if n := f.events(p.b.ID, "share.block", ""); n != 1 {
		t.Fatalf("%d block rows", n)
	}
	if _, err := f.s.CheckShareCode(f.ctx, ns.Share.ID, code, "192.0.2.11", nil); !errors.Is(err, buckets.ErrNotFound) {
		t.Fatalf("the right code on a blocked share: %v", err)
	}
	if b := f.bucket(p.b.ID); b.State != database.BucketActive || b.Failures != 0 {
		t.Fatalf("the patient's access is %s with %d failures", b.State, b.Failures)
	}
	if a := f.signIn(p.n, birth); a.Outcome != buckets.Open {
		t.Fatalf("the patient's sign-in: %v", a.Outcome)
	}
}

// At most MaxActiveShares open shares per access; a revoked one frees its
// place. At most MaxShareSendsPerDay messages (links and codes) per access
// in 24 hours; 60 s between codes of one share.
func TestShareLimits(t *testing.T) {
	f := newFixture(t)
	p := f.print(database.VerifyDOB, nil, nil)
	var shares []*buckets.NewShare
	for i := range buckets.MaxActiveShares {
		shares = append(shares, f.shareOf(p, "dr"+itoa(int64(i))+"@example.org", nil))
	}
	if _, err := f.tryShare(p, "dr9@example.org", nil); !errors.Is(err, buckets.ErrShareLimit) {
		t.Fatalf("share %d: %v", buckets.MaxActiveShares+1, err)
	}
	if err := f.s.RevokeShare(f.ctx, auditPatient(p), p.b.ID, shares[0].Share.ID); err != nil {
		t.Fatal(err)
	}
	shares = append(shares, f.shareOf(p, "dr9@example.org", nil)) // 6 links sent
	for _, sh := range shares[1:4] {                              // 3 codes: 9 messages
		if err := f.s.SendShareCode(f.ctx, f.outbox(), sh.Share.ID, "192.0.2.10"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.SendShareCode(f.ctx, f.outbox(), shares[1].Share.ID, "192.0.2.10"); !errors.Is(err, buckets.ErrCooldown) {
		t.Fatalf("a second code within a minute: %v", err)
	}
	f.clk.Add(2 * time.Minute)
	if err := f.s.SendShareCode(f.ctx, f.outbox(), shares[1].Share.ID, "192.0.2.10"); err != nil { // the 10th
		t.Fatal(err)
	}
	if err := f.s.SendShareCode(f.ctx, f.outbox(), shares[4].Share.ID, "192.0.2.10"); !errors.Is(err, buckets.ErrShareSendLimit) {
		t.Fatalf("the 11th message: %v", err)
	}
	if err := f.s.RevokeShare(f.ctx, auditPatient(p), p.b.ID, shares[1].Share.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tryShare(p, "dr10@example.org", nil); !errors.Is(err, buckets.ErrShareSendLimit) {
		t.Fatalf("a new share past the day's messages: %v", err)
	}
	f.clk.Add(24 * time.Hour)
	f.shareOf(p, "dr10@example.org", nil)
}

// A share sees only its studies, and only while they are still in the
// bucket; it ends on its last day, and with its access.
func TestShareScopeAndEnd(t *testing.T) {
	f := newFixture(t)
	f.instance(f.studies[0])
	f.instance(f.studies[1])
	p := f.print(database.VerifyDOB, nil, nil)
	ns := f.shareOf(p, "dr@example.org", []int64{f.studies[0].ID})
	sh, b, err := f.s.ShareOpen(f.ctx, ns.Share.ID)
	if err != nil {
		t.Fatal(err)
	}
	scope, err := f.s.ShareScopeOf(f.ctx, sh)
	if err != nil {
		t.Fatal(err)
	}
	v := buckets.Shared(b, scope)
	if _, err := f.s.Study(f.ctx, v, f.studies[0].ID); err != nil {
		t.Fatalf("shared study: %v", err)
	}
	if _, err := f.s.Study(f.ctx, v, f.studies[1].ID); !errors.Is(err, buckets.ErrNotFound) {
		t.Fatalf("study not shared: %v", err)
	}
	files, _, err := f.s.FilesFor(f.ctx, v)
	if err != nil || len(files) != 1 || files[0].Study.ID != f.studies[0].ID {
		t.Fatalf("files of the share: %d (%v)", len(files), err)
	}
	all, _, _ := f.s.Files(f.ctx, b)
	if len(all) != 2 {
		t.Fatalf("the patient's files: %d", len(all))
	}
	// Token: 256 random bits, only its keyed hash stored.
	raw, err := base64.RawURLEncoding.DecodeString(ns.Token)
	if err != nil || len(raw)*8 < 128 {
		t.Fatalf("token of %d bits", len(raw)*8)
	}
	if n := f.count(`SELECT count(*) FROM shares WHERE position(convert_to(?, 'UTF8') in token_hash) > 0 OR destination = ? OR message = ?`, ns.Token, ns.Token, ns.Token); n != 0 {
		t.Fatal("the token is stored in plaintext")
	}
	if _, _, err := f.s.OpenShare(f.ctx, ns.Token); err != nil {
		t.Fatalf("open by token: %v", err)
	}
	// Removed from the bucket by staff: gone from the share too.
	if _, err := f.s.RemoveStudy(f.ctx, f.admin, p.b.ID, f.studies[0].ID, "192.0.2.1", "wrong study"); err != nil {
		t.Fatal(err)
	}
	if scope, _ = f.s.ShareScopeOf(f.ctx, sh); len(scope.Studies) != 0 {
		t.Fatalf("a study removed from the bucket is still shared: %v", scope.Studies)
	}
	// Its last day, then past it.
	last := ns.Share.ValidUntil
	f.clk.Set(time.Date(last.Year(), last.Month(), last.Day(), 23, 0, 0, 0, time.UTC))
	if _, _, err := f.s.ShareOpen(f.ctx, sh.ID); err != nil {
		t.Fatalf("on its last day: %v", err)
	}
	f.clk.Add(2 * time.Hour)
	if _, _, err := f.s.ShareOpen(f.ctx, sh.ID); !errors.Is(err, buckets.ErrNotFound) {
		t.Fatalf("past its last day: %v", err)
	}
}

// The share form's rules: the doctor's address or international mobile
// number (phonenumbers, the allowed countries), the last day within the
// access, studies of the bucket only, the report only where the access
// shows it, a short message.
func TestShareFormRules(t *testing.T) {
	today := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	b := &database.Bucket{ValidUntil: today.AddDate(0, 0, 10), Scope: database.ScopeImages, Department: &database.Department{}}
	ids := []int64{7, 8}
	ok := buckets.ShareForm{To: "dr@example.org", Studies: []string{"7"}, Report: true}
	r, errs := ok.Check(today, b, ids)
	if errs != nil || r.Channel != notify.ChannelEmail || r.Report || !r.Until.Equal(b.ValidUntil) {
		t.Fatalf("valid form: %+v %v (report must be off, until capped at the access)", r, errs)
	}
	b.Scope = database.ScopeImagesReport
	if r, _ := ok.Check(today, b, ids); !r.Report {
		t.Fatal("report not kept where the access shows it")
	}
	b.ValidUntil = today.AddDate(1, 0, 0)
	if r, _ := ok.Check(today, b, ids); !r.Until.Equal(today.AddDate(0, 0, buckets.ShareDefaultDays)) {
		t.Fatalf("default length %v", r.Until)
	}
	for _, tc := range []struct {
		name  string
		form  buckets.ShareForm
		field string
	}{
		{"no address", buckets.ShareForm{Studies: []string{"7"}}, "to"},
		{"bad e-mail", buckets.ShareForm{To: "dr@localhost", Studies: []string{"7"}}, "to"},
		{"national number", buckets.ShareForm{To: "0470 12 34 56", Studies: []string{"7"}}, "to"},
		{"landline", buckets.ShareForm{To: "+32 2 555 12 12", Studies: []string{"7"}}, "to"},
		{"country not allowed", buckets.ShareForm{To: "+1 202 555 0147", Studies: []string{"7"}}, "to"},
		{"past the access", buckets.ShareForm{To: "dr@example.org", Studies: []string{"7"}, Until: today.AddDate(2, 0, 0).Format("2006-01-02")}, "until"},
		{"yesterday", buckets.ShareForm{To: "dr@example.org", Studies: []string{"7"}, Until: today.AddDate(0, 0, -1).Format("2006-01-02")}, "until"},
		{"no study", buckets.ShareForm{To: "dr@example.org"}, "studies"},
		{"another bucket's study", buckets.ShareForm{To: "dr@example.org", Studies: []string{"7", "9"}}, "studies"},
		{"long message", buckets.ShareForm{To: "dr@example.org", Studies: []string{"7"}, Message: strings.Repeat("é", buckets.ShareMessageMax+1)}, "message"},
		{"emoji", buckets.ShareForm{To: "dr@example.org", Studies: []string{"7"}, Message: "thanks 🙂"}, "message"},
	} {
		if _, errs := tc.form.Check(today, b, ids); !errs.Has(tc.field) {
			t.Errorf("%s: errors %v, want one on %s", tc.name, errs, tc.field)
		}
	}
	if r, errs := (buckets.ShareForm{To: "0032 470 12 34 56", Studies: []string{"7", "8"}}).Check(today, b, ids); errs != nil || r.Destination != "+32470123456" || r.Channel != notify.ChannelSMS {
		t.Fatalf("international mobile: %+v %v", r, errs)
	}
}

// 100 parallel code requests through 30 shares of 6 accesses, all to one
// doctor's mailbox spelled six ways: exactly MaxShareCodesPerAddressDay
// codes go out (counted in the dev outbox), the rest are refused with
// ErrShareAddressLimit (or the share's own 60 s cooldown); the count holds
// only the keyed hash of the normalized address; another doctor is not
// affected, and a day later the address receives codes again.
func TestShareCodesCappedPerAddress(t *testing.T) {
	f := newFixture(t)
	spellings := []string{"dr.peeters@example.org", "Dr.Peeters@Example.org", "DR.PEETERS@EXAMPLE.ORG",
		"dr.peeters+knee@example.org", "dr.peeters+1@Example.ORG", "Dr.Peeters+x@example.org"}
	var shares []int64
	for _, to := range spellings {
		p := f.print(database.VerifyDOB, nil, nil)
		for range buckets.MaxActiveShares {
			shares = append(shares, f.shareOf(p, to, nil).Share.ID)
		}
	}
	other := f.shareOf(f.print(database.VerifyDOB, nil, nil), "other@example.org", nil).Share.ID
	before, err := f.outbox().Recent(f.ctx, 1)
	if err != nil || len(before) != 1 {
		t.Fatalf("outbox: %v", err)
	}
	mark := before[0].ID
	var warm sync.WaitGroup
	for range 50 {
		warm.Add(1)
		go func() { defer warm.Done(); _, _ = f.db.ExecContext(f.ctx, `SELECT pg_sleep(0.2)`) }()
	}
	warm.Wait()
	release := make(chan struct{})
	var (
		wg                     sync.WaitGroup
		mu                     sync.Mutex
		sent, capped, cooldown int
		unexpected             []error
	)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			err := f.s.SendShareCode(f.ctx, f.outbox(), shares[i%len(shares)], "192.0.2.10")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				sent++
			case errors.Is(err, buckets.ErrShareAddressLimit):
				capped++
			case errors.Is(err, buckets.ErrCooldown):
				cooldown++
			default:
				unexpected = append(unexpected, err)
			}
		}()
	}
	close(release)
	wg.Wait()
	if len(unexpected) > 0 || sent != buckets.MaxShareCodesPerAddressDay || capped == 0 {
		t.Fatalf("sent %d, capped %d, cooldown %d, other errors %v; want exactly %d sent", sent, capped, cooldown, unexpected, buckets.MaxShareCodesPerAddressDay)
	}
	msgs, err := f.outbox().Recent(f.ctx, 200)
	if err != nil {
		t.Fatal(err)
	}
	codes := 0
	for _, m := range msgs {
		if m.ID > mark {
			if to := strings.ToLower(m.To); !strings.HasPrefix(to, "dr.peeters") || !strings.HasSuffix(to, "@example.org") || sixDigitsRE.FindString(m.Text) == "" {
				t.Fatalf("unexpected message to %s: %q", m.To, m.Text)
			}
			codes++
		}
	}
	if codes != buckets.MaxShareCodesPerAddressDay {
		t.Fatalf("%d codes in the outbox, want %d", codes, buckets.MaxShareCodesPerAddressDay)
	}
	want := buckets.ShareAddressHash(f.s.Key, notify.ChannelEmail, "dr.peeters@example.org")
	if n := f.count(`SELECT count(*) FROM share_address_sends WHERE addr_hash = ? AND outcome = 'sent'`, want); n != buckets.MaxShareCodesPerAddressDay {
		t.Fatalf("%d sends counted under the address's hash", n)
	}
	if n := f.count(`SELECT count(*) FROM share_address_sends WHERE addr_hash <> ?`, want); n != 0 {
		t.Fatalf("%d sends counted under other hashes: a spelling was not normalized", n)
	}
	if err := f.s.SendShareCode(f.ctx, f.outbox(), other, "192.0.2.10"); err != nil {
		t.Fatalf("another doctor's code: %v", err)
	}
	f.clk.Add(24*time.Hour + time.Minute)
	if err := f.s.SendShareCode(f.ctx, f.outbox(), shares[len(shares)-1], "192.0.2.10"); err != nil {
		t.Fatalf("a day later: %v", err)
	}
}
