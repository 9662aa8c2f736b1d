package studies_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/studies"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

type fixture struct {
	db         *bun.DB
	a, b       *database.Department
	staffA     *database.User
	adminA     *database.User
	desk       *database.User
	byAccNo    map[string]int64
	patientSeq int
}

func day(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := testdb.New(t)
	f := &fixture{db: db, byAccNo: map[string]int64{}}
	f.a = testserver.MustDepartment(t, db, "DEPT-A")
	f.b = testserver.MustDepartment(t, db, "DEPT-B")
	f.staffA = testserver.MustUser(t, db, "staff.a", database.RoleStaff, f.a)
	f.adminA = testserver.MustUser(t, db, "admin.a", database.RoleAdmin, f.a)
	f.desk = testserver.MustUser(t, db, "desk", database.RoleServiceDesk, nil)
	return f
}

func (f *fixture) patient(t *testing.T, d *database.Department, pid, family, given string) *database.Patient {
	t.Helper()
	p := &database.Patient{DepartmentID: d.ID, PatientID: pid, FamilyName: family, GivenName: given, BirthDate: day("1970-05-17")}
	if _, err := f.db.NewInsert().Model(p).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) study(t *testing.T, p *database.Patient, acc string, date *time.Time, mod, report string) int64 {
	t.Helper()
	s := &database.Study{DepartmentID: p.DepartmentID, PatientID: p.ID, StudyUID: "2.25.9" + acc, StudyDate: date,
		Accession: acc, Description: mod + " study", Modalities: []string{mod}, NumInstances: 3, ReportStatus: report}
	if _, err := f.db.NewInsert().Model(s).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.byAccNo[acc] = s.ID
	return s.ID
}

func accessions(p studies.Page) []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, r.Accession)
	}
	slices.Sort(out)
	return out
}

func TestSearchByNamePatientIDAndAccession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	mu := f.patient(t, f.a, "PID-1001", "Müller", "Anna")
	gr := f.patient(t, f.a, "PID-2002", "Groß", "Łucja")
	du := f.patient(t, f.a, "XY-7788", "Dubois", "Élodie")
	f.study(t, mu, "ACC-111", day("2026-01-10"), "CT", "none")
	f.study(t, mu, "ACC-112", day("2026-02-10"), "MR", "final")
	f.study(t, gr, "ACC-221", day("2026-03-10"), "US", "none")
	f.study(t, du, "ZZ-9001", day("2026-04-10"), "CR", "preliminary")
	// Same name in the other department: never in A's results.
	other := f.patient(t, f.b, "PID-1001", "Müller", "Anna")
	f.study(t, other, "ACC-999", day("2026-01-11"), "CT", "none")

	cases := []struct {
		q    string
		want []string
	}{
		{"muller", []string{"ACC-111", "ACC-112"}},
		{"MÜLLER", []string{"ACC-111", "ACC-112"}},
		{"Mül", []string{"ACC-111", "ACC-112"}},
		{"anna muller", []string{"ACC-111", "ACC-112"}},
		{"Müller, Anna", []string{"ACC-111", "ACC-112"}},
		{"gross", []string{"ACC-221"}},
		{"lucja", []string{"ACC-221"}},
		{"elodie", []string{"ZZ-9001"}},
		{"PID-2002", []string{"ACC-221"}},
		{"pid-2002", []string{"ACC-221"}},
		{"7788", []string{"ZZ-9001"}},
		{"ACC-112", []string{"ACC-112"}},
		{"zz-9001", []string{"ZZ-9001"}},
		{"ACC-", []string{"ACC-111", "ACC-112", "ACC-221"}},
		{"müller zz", nil},
		{"nobody", nil},
		{"100%", nil}, // LIKE wildcards are literal
		{"_", nil},
		{"", []string{"ACC-111", "ACC-112", "ACC-221", "ZZ-9001"}},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			p, err := studies.Search(context.Background(), f.db, f.staffA, studies.Filter{Query: c.q})
			if err != nil {
				t.Fatal(err)
			}
			if got := accessions(p); !slices.Equal(got, c.want) {
				t.Fatalf("search %q: got %v, want %v", c.q, got, c.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.patient(t, f.a, "P1", "Peeters", "Jan")
	f.study(t, p, "A1", day("2025-12-31"), "CT", "none")
	f.study(t, p, "A2", day("2026-01-01"), "MR", "final")
	f.study(t, p, "A3", day("2026-01-15"), "CT", "preliminary")
	f.study(t, p, "A4", day("2026-02-01"), "US", "none")
	f.study(t, p, "A5", nil, "CT", "final")
	cases := []struct {
		name string
		f    studies.Filter
		want []string
	}{
		{"from", studies.Filter{From: day("2026-01-01")}, []string{"A2", "A3", "A4"}},
		{"to", studies.Filter{To: day("2026-01-01")}, []string{"A1", "A2"}},
		{"range", studies.Filter{From: day("2026-01-01"), To: day("2026-01-31")}, []string{"A2", "A3"}},
		{"modality", studies.Filter{Modality: "CT"}, []string{"A1", "A3", "A5"}},
		{"has report", studies.Filter{Report: studies.ReportYes}, []string{"A2", "A3", "A5"}},
		{"no report", studies.Filter{Report: studies.ReportNo}, []string{"A1", "A4"}},
		{"combined", studies.Filter{Modality: "CT", Report: studies.ReportYes, From: day("2026-01-01")}, []string{"A3"}},
		{"with search", studies.Filter{Query: "peeters", Modality: "US"}, []string{"A4"}},
		{"nothing", studies.Filter{Modality: "PT"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := studies.Search(context.Background(), f.db, f.staffA, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := accessions(p); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestNewestFirstUndatedLast(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.patient(t, f.a, "P1", "Maes", "Lotte")
	f.study(t, p, "OLD", day("2020-01-01"), "CT", "none")
	f.study(t, p, "NODATE", nil, "CT", "none")
	f.study(t, p, "NEW", day("2026-06-01"), "CT", "none")
	res, err := studies.Search(context.Background(), f.db, f.staffA, studies.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, r.Accession)
	}
	if want := []string{"NEW", "OLD", "NODATE"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

// Walking the pages forward and back again must give every study exactly
// once, in the same order as one big query, with undated studies and many
// studies on the same day (the id breaks ties).
func TestKeysetPaginationNoDuplicatesNoGaps(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	var all []int64
	for i := 0; i < 8; i++ {
		p := f.patient(t, f.a, fmt.Sprintf("P%d", i), "Nowak", fmt.Sprintf("Kid%d", i))
		for j := 0; j < 9; j++ {
			var d *time.Time
			switch j % 3 {
			case 0:
				d = day("2026-03-03") // many on one day
			case 1:
				d = day(fmt.Sprintf("2025-%02d-1%d", 1+i, j))
			}
			all = append(all, f.study(t, p, fmt.Sprintf("K%d-%d", i, j), d, "CT", "none"))
		}
	}
	full, err := studies.Search(ctx, f.db, f.staffA, studies.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, r := range full.Rows {
		want = append(want, r.ID)
	}
	if len(want) != len(all) {
		t.Fatalf("full query gave %d studies, want %d", len(want), len(all))
	}

	var got []int64
	var pages []studies.Page
	filter := studies.Filter{Limit: 7}
	for n := 0; ; n++ {
		if n > 20 {
			t.Fatal("pagination does not end")
		}
		p, err := studies.Search(ctx, f.db, f.staffA, filter)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && p.Prev != "" {
			t.Fatal("the first page has a previous page")
		}
		pages = append(pages, p)
		for _, r := range p.Rows {
			got = append(got, r.ID)
		}
		if p.Next == "" {
			break
		}
		filter.After = p.Next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("forward pages:\n got %v\nwant %v", got, want)
	}

	// Back from the last page: each previous page equals the one seen before.
	last := pages[len(pages)-1]
	for i := len(pages) - 2; i >= 0; i-- {
		if last.Prev == "" {
			t.Fatalf("page %d has no previous page", i+1)
		}
		p, err := studies.Search(ctx, f.db, f.staffA, studies.Filter{Limit: 7, Before: last.Prev})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(p), ids(pages[i])) {
			t.Fatalf("previous page %d: got %v, want %v", i, ids(p), ids(pages[i]))
		}
		last = p
	}
	if last.Prev != "" {
		t.Fatal("going back reached the first page but it still offers a previous page")
	}
}

func ids(p studies.Page) []int64 {
	var out []int64
	for _, r := range p.Rows {
		out = append(out, r.ID)
	}
	return out
}

func TestDepartmentIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	pa := f.patient(t, f.a, "PA", "Janssens", "Anna")
	pb := f.patient(t, f.b, "PB", "Janssens", "Bart")
	f.study(t, pa, "IN-A", day("2026-01-01"), "CT", "none")
	f.study(t, pb, "IN-B", day("2026-01-02"), "CT", "none")
	staffB := testserver.MustUser(t, f.db, "staff.b", database.RoleStaff, f.b)
	cases := []struct {
		name string
		u    *database.User
		f    studies.Filter
		want []string
	}{
		{"staff of A", f.staffA, studies.Filter{}, []string{"IN-A"}},
		{"staff of A asking for B", f.staffA, studies.Filter{DepartmentID: f.b.ID}, []string{"IN-A"}},
		{"staff of A searching B's accession", f.staffA, studies.Filter{Query: "IN-B"}, nil},
		{"admin of A", f.adminA, studies.Filter{DepartmentID: f.b.ID}, []string{"IN-A"}},
		{"staff of B", staffB, studies.Filter{}, []string{"IN-B"}},
		{"service desk", f.desk, studies.Filter{}, []string{"IN-A", "IN-B"}},
		{"service desk, filter B", f.desk, studies.Filter{DepartmentID: f.b.ID}, []string{"IN-B"}},
		{"service desk, search", f.desk, studies.Filter{Query: "janssens"}, []string{"IN-A", "IN-B"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := studies.Search(ctx, f.db, c.u, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := accessions(p); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	// The selection carried in the URL is scoped the same way.
	sel, err := studies.Selection(ctx, f.db, f.staffA, []int64{f.byAccNo["IN-A"], f.byAccNo["IN-B"]})
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 1 || sel[0].ID != f.byAccNo["IN-A"] || sel[0].PatientRowID != pa.ID {
		t.Fatalf("staff of A keeps selection %+v, want only IN-A", sel)
	}
	sel, err = studies.Selection(ctx, f.db, f.desk, []int64{f.byAccNo["IN-A"], f.byAccNo["IN-B"]})
	if err != nil || len(sel) != 2 {
		t.Fatalf("service desk selection %+v, %v", sel, err)
	}
}

// A renamed patient is found under the new name (the search column follows).
func TestSearchFollowsPatientRename(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.patient(t, f.a, "P1", "Fabre", "Inès")
	f.study(t, p, "R1", day("2026-01-01"), "CT", "none")
	if _, err := f.db.NewUpdate().Model(p).Set("family_name = ?", "Wójcik").WherePK().Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"wojcik": 1, "fabre": 0} {
		res, err := studies.Search(ctx, f.db, f.staffA, studies.Filter{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) != want {
			t.Fatalf("search %q after rename: %d rows, want %d", q, len(res.Rows), want)
		}
	}
}

func TestLabelsShownToTheirUserOrGroup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := f.patient(t, f.a, "P1", "Vermeulen", "Mats")
	id := f.study(t, p, "L1", day("2026-01-01"), "CT", "none")
	other := testserver.MustUser(t, f.db, "other.a", database.RoleStaff, f.a)
	g := &database.Group{DepartmentID: f.a.ID, Name: "Front desk"}
	mustInsert(t, f.db, g)
	mustInsert(t, f.db, &database.GroupMember{GroupID: g.ID, UserID: f.staffA.ID})
	mine := &database.Label{DepartmentID: f.a.ID, Name: "Follow-up", Color: "#c0392b"}
	group := &database.Label{DepartmentID: f.a.ID, Name: "Teaching", Color: "#27ae60"}
	theirs := &database.Label{DepartmentID: f.a.ID, Name: "Second opinion", Color: "#2e86c1"}
	for _, l := range []*database.Label{mine, group, theirs} {
		mustInsert(t, f.db, l)
	}
	mustInsert(t, f.db, &database.StudyLabel{StudyID: id, LabelID: mine.ID, UserID: &f.staffA.ID})
	mustInsert(t, f.db, &database.StudyLabel{StudyID: id, LabelID: group.ID, GroupID: &g.ID})
	mustInsert(t, f.db, &database.StudyLabel{StudyID: id, LabelID: theirs.ID, UserID: &other.ID})
	for _, c := range []struct {
		u    *database.User
		want []string
	}{
		{f.staffA, []string{"Follow-up", "Teaching"}},
		{other, []string{"Second opinion"}},
		// An admin sees the labels meant for them too, not every label.
		{f.adminA, nil},
	} {
		res, err := studies.Search(ctx, f.db, c.u, studies.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range res.Rows[0].Labels {
			got = append(got, l.Name)
		}
		if !slices.Equal(got, c.want) {
			t.Fatalf("%s sees labels %v, want %v", c.u.Username, got, c.want)
		}
	}
}

func TestMalformedCursor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, c := range []string{"x", "2026-01-01-5", "20261301-5", "0-", "'; DROP TABLE studies; --"} {
		_, err := studies.Search(context.Background(), f.db, f.staffA, studies.Filter{After: c})
		if !errors.Is(err, studies.ErrCursor) {
			t.Fatalf("cursor %q: err %v, want ErrCursor", c, err)
		}
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"":                nil,
		"  müller  ":      {"müller"},
		"Müller, Anna":    {"Müller", "Anna"},
		"a b c d e f g h": {"a", "b", "c", "d", "e", "f"},
		"x;y\tz":          {"x", "y", "z"},
	}
	for in, want := range cases {
		if got := studies.Tokens(in); !slices.Equal(got, want) {
			t.Errorf("Tokens(%q) = %v, want %v", in, got, want)
		}
	}
}

func mustInsert(t *testing.T, db bun.IDB, model any) {
	t.Helper()
	if _, err := db.NewInsert().Model(model).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}
