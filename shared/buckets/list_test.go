package buckets_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/buckets"
	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
	"github.com/radpass/radpass/shared/testkit/testserver"
)

type listFixture struct {
	svc                     *buckets.Service
	north, south            *database.Department
	staffN, adminS, desk    *database.User
	studyN, studyN2, studyS *database.Study
}

func newListFixture(t *testing.T) *listFixture {
	t.Helper()
	db := testdb.New(t)
	f := &listFixture{svc: &buckets.Service{DB: db, Key: make([]byte, 32)}}
	f.north = testserver.MustDepartment(t, db, "NORTH")
	f.south = testserver.MustDepartment(t, db, "SOUTH")
	f.staffN = testserver.MustUser(t, db, "nstaff", database.RoleStaff, f.north)
	f.adminS = testserver.MustUser(t, db, "sadmin", database.RoleAdmin, f.south)
	f.desk = testserver.MustUser(t, db, "desk", database.RoleServiceDesk, nil)
	bd := time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)
	f.studyN = testserver.MustPatientStudy(t, db, f.north, "N1", "Müller", "Anna", &bd)
	f.studyN2 = testserver.MustPatientStudy(t, db, f.north, "N2", "Peeters", "Jan", &bd)
	f.studyS = testserver.MustPatientStudy(t, db, f.south, "S1", "Dubois", "Marc", &bd)
	return f
}

func (f *listFixture) print(t *testing.T, u *database.User, st *database.Study, anon bool) *database.Bucket {
	t.Helper()
	ctx := context.Background()
	sel, err := f.svc.Select(ctx, u, []int64{st.ID})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.Create(ctx, u, "127.0.0.1", sel, &buckets.PrintRequest{Verification: database.VerifyDOB, Scope: database.ScopeImages,
		Reason: "test print", Language: "en", ValidUntil: f.svc.Today().AddDate(0, 1, 0), Anonymize: anon}, buckets.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Bucket
}

func ids(p *buckets.ListPage) []int64 {
	var out []int64
	for _, r := range p.Rows {
		out = append(out, r.ID)
	}
	return out
}

func TestListScopeFiltersAndPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newListFixture(t)
	db := f.svc.DB
	var north []*database.Bucket
	for i := 0; i < 7; i++ {
		north = append(north, f.print(t, f.staffN, f.studyN, false))
	}
	peeters := f.print(t, f.staffN, f.studyN2, false)
	anon := f.print(t, f.staffN, f.studyN2, true)
	south := f.print(t, f.adminS, f.studyS, false)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE buckets SET state = 'blocked', failures = 5 WHERE id IN (?, ?)`, north[0].ID, north[3].ID)
	exec(`UPDATE buckets SET state = 'revoked' WHERE id = ?`, north[1].ID)
	exec(`UPDATE buckets SET valid_until = current_date - 1 WHERE id = ?`, north[2].ID)
	exec(`UPDATE buckets SET created_at = '2020-05-05 10:00+00' WHERE id = ?`, north[4].ID)
	lbl := &database.Label{DepartmentID: f.north.ID, Name: "Urgent", Color: "#aa0000"}
	if _, err := db.NewInsert().Model(lbl).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO study_labels (study_id, label_id, user_id) VALUES (?, ?, ?)`, f.studyN2.ID, lbl.ID, f.staffN.ID)
	day := func(s string) *time.Time { d, _ := time.Parse(time.DateOnly, s); return &d }

	for _, tc := range []struct {
		name string
		u    *database.User
		f    buckets.ListFilter
		want int
		has  []int64
		not  []int64
	}{
		{"staff: own department, blocked first", f.staffN, buckets.ListFilter{}, 9, []int64{north[3].ID, north[0].ID}, []int64{south.ID}},
		{"other admin: never NORTH", f.adminS, buckets.ListFilter{}, 1, []int64{south.ID}, nil},
		{"other admin asking for NORTH", f.adminS, buckets.ListFilter{Department: f.north.ID}, 0, nil, nil},
		{"service desk: all", f.desk, buckets.ListFilter{}, 10, nil, nil},
		{"service desk: one department", f.desk, buckets.ListFilter{Department: f.south.ID}, 1, []int64{south.ID}, nil},
		{"blocked", f.staffN, buckets.ListFilter{State: database.BucketBlocked}, 2, nil, nil},
		{"revoked", f.staffN, buckets.ListFilter{State: database.BucketRevoked}, 1, []int64{north[1].ID}, nil},
		{"expired", f.staffN, buckets.ListFilter{State: database.BucketExpired}, 1, []int64{north[2].ID}, nil},
		{"active", f.staffN, buckets.ListFilter{State: database.BucketActive}, 5, nil, []int64{north[2].ID}},
		{"unknown state", f.staffN, buckets.ListFilter{State: "gone"}, 0, nil, nil},
		{"patient name, unaccented", f.staffN, buckets.ListFilter{Patient: "muller"}, 7, nil, []int64{peeters.ID}},
		{"patient ID", f.staffN, buckets.ListFilter{Patient: "N2"}, 1, []int64{peeters.ID}, []int64{anon.ID}},
		{"anonymized by its number only", f.staffN, buckets.ListFilter{Patient: anon.AnonNumber}, 1, []int64{anon.ID}, nil},
		{"LIKE wildcards are literal", f.staffN, buckets.ListFilter{Patient: "%"}, 0, nil, nil},
		{"invalid UTF-8", f.staffN, buckets.ListFilter{Patient: "m\xffuller"}, 7, nil, nil},
		{"long query cut on a character", f.staffN, buckets.ListFilter{Patient: strings.Repeat("ü", 150)}, 0, nil, nil},
		{"creator", f.staffN, buckets.ListFilter{CreatedBy: f.adminS.ID}, 0, nil, nil},
		{"label", f.staffN, buckets.ListFilter{Label: lbl.ID}, 2, []int64{peeters.ID, anon.ID}, nil},
		{"date range", f.staffN, buckets.ListFilter{From: day("2020-05-01"), To: day("2020-05-05")}, 1, []int64{north[4].ID}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.svc.List(ctx, tc.u, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got := ids(p)
			if len(got) != tc.want {
				t.Fatalf("%d rows %v, want %d", len(got), got, tc.want)
			}
			for i, id := range tc.has {
				if tc.name == "staff: own department, blocked first" {
					if got[i] != id {
						t.Fatalf("row %d is %d, want blocked %d first", i, got[i], id)
					}
				}
				if !contains(got, id) {
					t.Fatalf("%d missing from %v", id, got)
				}
			}
			for _, id := range tc.not {
				if contains(got, id) {
					t.Fatalf("%d listed in %v", id, got)
				}
			}
			for _, r := range p.Rows {
				if r.Anonymized && (r.PatientName != "" || r.PatientNumber != "") {
					t.Fatalf("anonymized row carries the patient: %+v", r)
				}
			}
		})
	}

	// Pages of 2 walk all 9 NORTH buckets once each, blocked first.
	var walked []int64
	after := ""
	for {
		p, err := f.svc.List(ctx, f.staffN, buckets.ListFilter{Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(p)...)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(walked) != 9 || walked[0] != north[3].ID || walked[1] != north[0].ID {
		t.Fatalf("pages walked %v", walked)
	}
	seen := map[int64]bool{}
	for _, id := range walked {
		if seen[id] {
			t.Fatalf("%d twice in %v", id, walked)
		}
		seen[id] = true
	}
	for _, bad := range []string{"x", "Yi54LjI", "ci4xLi0x"} {
		if _, err := f.svc.List(ctx, f.staffN, buckets.ListFilter{After: bad}); err != buckets.ErrCursor {
			t.Fatalf("cursor %q: %v", bad, err)
		}
	}
	// Row: visible to its department, ErrNotFound elsewhere.
	if _, err := f.svc.Row(ctx, f.adminS, north[0].ID); err != buckets.ErrNotFound {
		t.Fatalf("other department's row: %v", err)
	}
	if r, err := f.svc.Row(ctx, f.staffN, north[2].ID); err != nil || r.Effective != database.BucketExpired {
		t.Fatalf("row: %+v %v", r, err)
	}
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestForStudy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newListFixture(t)
	b := f.print(t, f.staffN, f.studyN, false)
	f.print(t, f.staffN, f.studyN2, false) // another study's bucket
	bs, err := f.svc.ForStudy(ctx, f.studyN.ID)
	if err != nil || len(bs) != 1 || bs[0].ID != b.ID || bs[0].Effective != database.BucketActive {
		t.Fatalf("buckets of the study: %+v %v", bs, err)
	}
}

// TestRowIsTheListRow: the single row an action re-renders is the row the
// list shows for that bucket, field for field (studies and effective state
// included), for every state and for the department and the service desk;
// a bucket the user may not see, or none, is ErrNotFound.
func TestRowIsTheListRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newListFixture(t)
	db := f.svc.DB
	var north []*database.Bucket
	for i := 0; i < 4; i++ {
		north = append(north, f.print(t, f.staffN, f.studyN, false))
	}
	anon := f.print(t, f.staffN, f.studyN2, true)
	south := f.print(t, f.adminS, f.studyS, false)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE buckets SET state = 'blocked', failures = 5, last_access_at = now() WHERE id = ?`, north[0].ID)
	exec(`UPDATE buckets SET state = 'revoked' WHERE id = ?`, north[1].ID)
	exec(`UPDATE buckets SET valid_until = current_date - 1 WHERE id = ?`, north[2].ID)
	exec(`INSERT INTO bucket_studies (bucket_id, study_id) VALUES (?, ?)`, north[3].ID, f.studyN2.ID)

	for _, u := range []*database.User{f.staffN, f.desk} {
		page, err := f.svc.List(ctx, u, buckets.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := 5
		if u == f.desk {
			want = 6
		}
		if len(page.Rows) != want {
			t.Fatalf("%s lists %d rows, want %d", u.Username, len(page.Rows), want)
		}
		for _, listed := range page.Rows {
			row, err := f.svc.Row(ctx, u, listed.ID)
			if err != nil {
				t.Fatalf("%s row %d: %v", u.Username, listed.ID, err)
			}
			if !reflect.DeepEqual(row, listed) {
				t.Fatalf("%s row %d:\n got %+v\nlist %+v", u.Username, listed.ID, row, listed)
			}
		}
	}
	if r, err := f.svc.Row(ctx, f.staffN, north[3].ID); err != nil || len(r.Studies) != 2 {
		t.Fatalf("row with two studies: %+v %v", r, err)
	}
	if r, err := f.svc.Row(ctx, f.staffN, anon.ID); err != nil || !r.Anonymized || r.PatientName != "" || r.PatientNumber != "" {
		t.Fatalf("anonymized row: %+v %v", r, err)
	}
	for _, tc := range []struct {
		u  *database.User
		id int64
	}{{f.staffN, south.ID}, {f.adminS, north[0].ID}, {f.staffN, 0}, {f.staffN, -1}, {f.desk, south.ID + 1000}, {nil, north[0].ID}} {
		if r, err := f.svc.Row(ctx, tc.u, tc.id); err != buckets.ErrNotFound {
			t.Fatalf("row %d: %+v %v, want ErrNotFound", tc.id, r, err)
		}
	}
}

// TestListChoices: the service desk chooses among every department, every
// user who prints and every label (named with its department's code); a
// department user among their department's, without the service desk.
func TestListChoices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newListFixture(t)
	db := f.svc.DB
	north := &database.Label{DepartmentID: f.north.ID, Name: "Urgent", Color: "#aa0000"}
	south := &database.Label{DepartmentID: f.south.ID, Name: "Audit", Color: "#00aa00"}
	for _, l := range []*database.Label{north, south} {
		if _, err := db.NewInsert().Model(l).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	names := func(cs []buckets.Choice) map[int64]string {
		m := map[int64]string{}
		for _, c := range cs {
			m[c.ID] = c.Name
		}
		return m
	}

	desk, err := f.svc.ListChoices(ctx, f.desk)
	if err != nil {
		t.Fatal(err)
	}
	depts := map[int64]bool{}
	for _, d := range desk.Departments {
		depts[d.ID] = true
	}
	if !depts[f.north.ID] || !depts[f.south.ID] {
		t.Fatalf("service desk departments %+v", desk.Departments)
	}
	creators := names(desk.Creators)
	if creators[f.staffN.ID] == "" || creators[f.adminS.ID] == "" || creators[f.desk.ID] == "" {
		t.Fatalf("service desk creators %+v", desk.Creators)
	}
	labels := names(desk.Labels)
	if labels[north.ID] != "Urgent (NORTH)" || labels[south.ID] != "Audit (SOUTH)" {
		t.Fatalf("service desk labels %+v", desk.Labels)
	}

	staff, err := f.svc.ListChoices(ctx, f.staffN)
	if err != nil {
		t.Fatal(err)
	}
	creators, labels = names(staff.Creators), names(staff.Labels)
	if len(staff.Departments) != 0 || len(creators) != 1 || creators[f.staffN.ID] == "" {
		t.Fatalf("staff departments %+v, creators %+v", staff.Departments, staff.Creators)
	}
	if len(labels) != 1 || labels[north.ID] != "Urgent" {
		t.Fatalf("staff labels %+v", staff.Labels)
	}
}

// The print-date filter counts days on the service's calendar: a print at
// 00:30 in Brussels (22:30 UTC the day before) is listed under its Brussels
// day, and one at 23:30 Brussels time under that day, not the next.
func TestListDateFilterUsesTheZone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newListFixture(t)
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Zone = brussels
	early := f.print(t, f.staffN, f.studyN, false)
	late := f.print(t, f.staffN, f.studyN2, false)
	for q, id := range map[string]int64{
		`UPDATE buckets SET created_at = '2020-05-04 22:30+00' WHERE id = ?`: early.ID, // 5 May 00:30 CEST
		`UPDATE buckets SET created_at = '2020-05-05 21:30+00' WHERE id = ?`: late.ID,  // 5 May 23:30 CEST
	} {
		if _, err := f.svc.DB.ExecContext(ctx, q, id); err != nil {
			t.Fatal(err)
		}
	}
	day := func(s string) *time.Time { d, _ := time.Parse(time.DateOnly, s); return &d }
	for _, tc := range []struct {
		from, to string
		want     []int64
	}{
		{"2020-05-05", "2020-05-05", []int64{late.ID, early.ID}},
		{"2020-05-04", "2020-05-04", nil},
		{"2020-05-06", "2020-05-06", nil},
	} {
		p, err := f.svc.List(ctx, f.staffN, buckets.ListFilter{From: day(tc.from), To: day(tc.to)})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(p); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Fatalf("%s..%s: %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}
