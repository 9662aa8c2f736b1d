package studies

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// The three estimates come from one EXPLAIN; each must be what its query
// explained alone gives, also when a subquery has subplans of its own (the
// label filter's group check) or is constant false (a user without a
// department).
func TestEstimatesInOneExplain(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	ins := inserter(t, db)
	d := &database.Department{Code: "EST", Name: "Estimates", DefaultValidityN: 1, DefaultValidityUnit: "month"}
	ins(d)
	u := &database.User{Username: "est", Role: database.RoleStaff, DepartmentID: &d.ID, PasswordHash: "x"}
	ins(u)
	g := &database.Group{DepartmentID: d.ID, Name: "Team"}
	ins(g)
	ins(&database.GroupMember{GroupID: g.ID, UserID: u.ID})
	l := &database.Label{DepartmentID: d.ID, Name: "One", Color: "#c0392b"}
	ins(l)
	for i := 0; i < 60; i++ {
		p := &database.Patient{DepartmentID: d.ID, PatientID: fmt.Sprintf("E%03d", i), FamilyName: []string{"Müller", "Nowak", "Schäfer", "Martin"}[i%4], GivenName: "Kim"}
		ins(p)
		day := time.Date(2026, 1, 1+i%28, 0, 0, 0, 0, time.UTC)
		s := &database.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: fmt.Sprintf("1.3.%d", i), StudyDate: &day,
			Accession: fmt.Sprintf("EA%03d", i), Modalities: []string{[]string{"CT", "MR", "PT"}[i%3]}, ReportStatus: []string{"none", "final"}[i%2]}
		ins(s)
		if i%5 == 0 {
			ins(&database.StudyLabel{StudyID: s.ID, LabelID: l.ID, UserID: &u.ID})
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	alone := func(q *bun.SelectQuery) float64 {
		t.Helper()
		var plan string
		if err := db.NewRaw("EXPLAIN (FORMAT JSON) ?", q).Scan(ctx, &plan); err != nil {
			t.Fatal(err)
		}
		var out []struct {
			Plan struct {
				Rows float64 `json:"Plan Rows"`
			}
		}
		if err := json.Unmarshal([]byte(plan), &out); err != nil {
			t.Fatal(err)
		}
		return out[0].Plan.Rows
	}
	from := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	nobody := &database.User{ID: u.ID, Role: database.RoleStaff}
	for _, c := range []struct {
		u *database.User
		f Filter
	}{
		{u, Filter{Query: "muller"}},
		{u, Filter{Query: "mar", Modality: "CT"}},
		{u, Filter{Query: "kim, now", Report: ReportNo, From: &from}},
		{u, Filter{Query: "kim", LabelIDs: []int64{l.ID}}},
		{nobody, Filter{Query: "kim", Modality: "MR"}},
	} {
		f := c.f
		f.viewer = c.u.ID
		got, err := estimates(ctx, db, c.u, f)
		if err != nil {
			t.Fatal(err)
		}
		base := func() *bun.SelectQuery {
			return scoped(db.NewSelect().TableExpr("studies AS s").ColumnExpr("1"), c.u, f)
		}
		want := estimated{n: alone(base()), mt: alone(tokenConds(base(), f)), mf: alone(filtered(base(), f, sorted))}
		if got != want {
			t.Errorf("%+v: one EXPLAIN %+v, alone %+v", c.f, got, want)
		}
	}
}
