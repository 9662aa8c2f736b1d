package buckets_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/audit"
	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/letter"
	"github.com/radpass/radpass/shared/printing"
	"github.com/radpass/radpass/shared/refnum"
)

func (f *fixture) create(u *database.User, r *buckets.PrintRequest, h buckets.Hooks) (*buckets.Created, error) {
	sel, err := f.s.Select(f.ctx, u, buckets.StudyIDs(f.studies))
	if err != nil {
		return nil, err
	}
	return f.s.Create(f.ctx, u, "192.0.2.1", sel, r, h)
}

// stored counts what one print writes.
func (f *fixture) stored() [4]int {
	return [4]int{
		f.count(`SELECT count(*) FROM buckets`),
		f.count(`SELECT count(*) FROM bucket_studies`),
		f.count(`SELECT count(*) FROM audit_events WHERE action = ?`, audit.BucketPrint),
		f.count(`SELECT count(*) FROM user_print_prefs`),
	}
}

func TestCreateRepeatedFormToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.request(database.VerifySMS)
	r.FormToken = "tok-0123456789abcdef"
	first, err := f.create(f.staff, r, buckets.Hooks{})
	if err != nil || first.Duplicate || first.Number.IsZero() {
		t.Fatalf("first submit: %+v %v", first, err)
	}
	before := f.stored()
	kept := 0
	again, err := f.create(f.staff, r, buckets.Hooks{Keep: func(context.Context, bun.Tx, *database.Bucket, refnum.Number) error {
		kept++
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Bucket.ID != first.Bucket.ID || !again.Number.IsZero() || kept != 0 {
		t.Fatalf("second submit: duplicate %v, bucket %d (first %d), number kept %v, Keep ran %d times",
			again.Duplicate, again.Bucket.ID, first.Bucket.ID, !again.Number.IsZero(), kept)
	}
	if after := f.stored(); after != before {
		t.Fatalf("a repeated token stored something: %v -> %v", before, after)
	}
	// The token is one user's: another user's form with the same token prints.
	other, err := f.create(f.admin, r, buckets.Hooks{})
	if err != nil || other.Duplicate || other.Bucket.ID == first.Bucket.ID {
		t.Fatalf("another user's submit: %+v %v", other, err)
	}
	// No token, no deduplication.
	r.FormToken = ""
	for i := 0; i < 2; i++ {
		if res, err := f.create(f.staff, r, buckets.Hooks{}); err != nil || res.Duplicate {
			t.Fatalf("print without a token: %+v %v", res, err)
		}
	}
}

func TestCreateParallelSameFormToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.request(database.VerifyEmail)
	r.FormToken = "tok-parallel-0123456789"
	sel, err := f.s.Select(f.ctx, f.staff, buckets.StudyIDs(f.studies))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	f.s.Letters = &printing.Printer{DB: f.db, SignInURL: "https://radpass.example.org/"}
	res := make([]*buckets.Created, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-gate
			res[i], errs[i] = f.s.Create(f.ctx, f.staff, "192.0.2.1", sel, r, buckets.Hooks{})
		}(i)
	}
	close(gate)
	wg.Wait()
	// The letter is rendered for the first submit only: a repeat is
	// answered before it.
	if got := f.s.Letters.Renders(); got != 1 {
		t.Errorf("%d letters rendered for %d submits of one form, want 1", got, n)
	}
	fresh := 0
	for i := range res {
		if errs[i] != nil {
			t.Fatalf("submit %d: %v", i, errs[i])
		}
		if !res[i].Duplicate {
			fresh++
		}
		if res[i].Bucket.ID != res[0].Bucket.ID {
			t.Fatalf("submits answered buckets %d and %d", res[0].Bucket.ID, res[i].Bucket.ID)
		}
	}
	if fresh != 1 {
		t.Fatalf("%d submits created a bucket, want 1", fresh)
	}
	if got := f.stored(); got != [4]int{1, len(f.studies), 1, 1} {
		t.Fatalf("stored %v, want one print", got)
	}
}

func TestCreateHookFailureStoresNothing(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	cases := []struct {
		name string
		h    buckets.Hooks
		want error
	}{
		// A letter that cannot be rendered (the department's logo is no
		// image) stores no print.
		{"render", buckets.Hooks{}, letter.ErrLogo},
		{"keep", buckets.Hooks{Keep: func(ctx context.Context, tx bun.Tx, b *database.Bucket, _ refnum.Number) error {
			// The hook sees the bucket inside the transaction, then fails.
			if _, err := tx.NewSelect().Model((*database.Bucket)(nil)).Where("id = ?", b.ID).Exists(ctx); err != nil {
				return err
			}
			return boom
		}}, boom},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.request(database.VerifySMS)
			r.FormToken = "tok-failing-0123456789"
			r.LabelID, r.LabelUserID = f.label(), &f.staff.ID
			f.s.Letters = &printing.Printer{DB: f.db, SignInURL: "https://radpass.example.org/"}
			if tc.want == letter.ErrLogo {
				f.exec(`INSERT INTO department_logos (department_id, png, width, height) VALUES (?, 'not an image', 1, 1)`, f.north.ID)
			}
			if _, err := f.create(f.staff, r, tc.h); !errors.Is(err, tc.want) {
				t.Fatalf("create with a failing %s: %v, want %v", tc.name, err, tc.want)
			}
			if got := f.stored(); got != [4]int{} {
				t.Fatalf("a failed print stored %v", got)
			}
			if n := f.count(`SELECT count(*) FROM study_labels`); n != 0 {
				t.Fatalf("%d labels left", n)
			}
			// The same form then prints (the token was not used up).
			f.exec(`DELETE FROM department_logos`)
			if res, err := f.create(f.staff, r, buckets.Hooks{}); err != nil || res.Duplicate {
				t.Fatalf("retry: %+v %v", res, err)
			}
		})
	}
}

// label makes a north label and returns its id.
func (f *fixture) label() int64 {
	f.t.Helper()
	var id int64
	if err := f.db.QueryRowContext(f.ctx, `INSERT INTO labels (department_id, name) VALUES (?, 'follow-up') RETURNING id`, f.north.ID).Scan(&id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// After prints of every kind, no table holds a plaintext reference number
// in any spelling.
func TestNoPlaintextNumberInTheDatabase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ps []printed
	for _, v := range []string{database.VerifySMS, database.VerifyEmail, database.VerifyDOB} {
		r := f.request(v)
		r.FormToken = "tok-dump-" + v + "-0123456789"
		r.Anonymize = v == database.VerifyDOB
		ps = append(ps, f.printReq(r, nil, nil))
	}
	// Use them as a patient would, so sign-in and OTP rows exist too.
	for _, p := range ps {
		f.signIn(p.n, wrongBirth)
		f.signIn(p.n, birth)
	}
	f.issue(ps[0].b.ID, "198.51.100.7")
	// Column by column: text as text, bytea as its raw bytes (a number
	// hidden in a bytea would not show in its hex text form).
	var cols []struct {
		Table  string `bun:"table_name"`
		Column string `bun:"column_name"`
		Type   string `bun:"data_type"`
	}
	if err := f.db.NewRaw(`SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'`).Scan(f.ctx, &cols); err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for _, c := range cols {
		expr := "?::text"
		if c.Type == "bytea" {
			expr = "?"
		}
		var vals [][]byte
		if err := f.db.NewRaw(`SELECT `+expr+` FROM ? WHERE ? IS NOT NULL`, bun.Ident(c.Column), bun.Ident(c.Table), bun.Ident(c.Column)).Scan(f.ctx, &vals); err != nil {
			t.Fatalf("dump %s.%s: %v", c.Table, c.Column, err)
		}
		for _, v := range vals {
			dump.Write(v)
			dump.WriteByte('\n')
		}
	}
	text := strings.ToUpper(dump.String())
	if !strings.Contains(text, "PATIENT ASKED FOR THE IMAGES") {
		t.Fatal("the dump does not hold the prints (the check would prove nothing)")
	}
	for _, p := range ps {
		for _, spelling := range []string{p.n.Canonical(), p.n.Grouped()} {
			if strings.Contains(text, strings.ToUpper(spelling)) {
				t.Fatalf("the database holds a reference number in plaintext (%d columns dumped)", len(cols))
			}
		}
	}
}
