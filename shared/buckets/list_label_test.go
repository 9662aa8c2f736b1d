package buckets

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/radpass/radpass/shared/database"
	"github.com/radpass/radpass/shared/testkit/testdb"
)

// The label filter gives the same pages, in the same order, with exact
// keyset pagination, whichever way it runs (the labelled buckets listed,
// the walk with a hash of them, the walk probing each bucket): each is
// forced through the thresholds and compared with a plain reference query.
func TestListLabelPlansMatchReference(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	svc := &Service{DB: db, Key: make([]byte, 32), Now: func() time.Time { return now }}
	ins := func(v any) {
		t.Helper()
		if _, err := db.NewInsert().Model(v).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	var depts []*database.Department
	var users []*database.User
	for i, code := range []string{"LN", "LS"} {
		d := &database.Department{Code: code, Name: code, DefaultValidityN: 1, DefaultValidityUnit: "month"}
		ins(d)
		depts = append(depts, d)
		u := &database.User{Username: fmt.Sprintf("admin%d", i), Role: database.RoleAdmin, DepartmentID: &d.ID, PasswordHash: "x"}
		ins(u)
		users = append(users, u)
	}
	// 12 patients with 2 studies each per department; 240 buckets of one
	// or two studies, print times repeating (the id breaks ties), some
	// blocked, revoked, expired.
	var studies [2][]int64
	for di, d := range depts {
		for i := 0; i < 12; i++ {
			p := &database.Patient{DepartmentID: d.ID, PatientID: fmt.Sprintf("%s-%d", d.Code, i), FamilyName: []string{"Müller", "Peeters", "Dubois"}[i%3], GivenName: "Kim"}
			ins(p)
			for j := 0; j < 2; j++ {
				s := &database.Study{DepartmentID: d.ID, PatientID: p.ID, StudyUID: fmt.Sprintf("7.%d.%d.%d", di, i, j),
					Accession: fmt.Sprintf("LA%d%02d%d", di, i, j), Modalities: []string{"CT"}, ReportStatus: "none"}
				ins(s)
				studies[di] = append(studies[di], s.ID)
			}
		}
	}
	exec(`INSERT INTO buckets (ref_hash, department_id, patient_id, verification, destination, scope, valid_until, reason, language,
			anonymized, anon_number, created_by, state, failures, created_at)
		SELECT sha256(convert_to('lbl' || g, 'UTF8')), d.id, s.patient_id, 'dob', '', 'images', ?::date + (g % 7) - 2, 'test', 'en',
			false, '', CASE WHEN g % 2 = 0 THEN ? ELSE ? END::bigint,
			CASE WHEN g % 17 = 0 THEN 'blocked' WHEN g % 11 = 0 THEN 'revoked' ELSE 'active' END, 0,
			?::timestamptz - (g / 3) * interval '1 hour'
		FROM generate_series(1, 240) g
		JOIN departments d ON d.id = CASE WHEN g % 5 = 0 THEN ? ELSE ? END::bigint
		JOIN LATERAL (SELECT patient_id FROM studies WHERE department_id = d.id ORDER BY id OFFSET g % 24 LIMIT 1) s ON true`,
		now.Format(time.DateOnly), users[0].ID, users[0].ID, now, depts[1].ID, depts[0].ID)
	// Each bucket holds its patient's first study, every third one the
	// second too.
	exec(`INSERT INTO bucket_studies (bucket_id, study_id)
		SELECT b.id, s.id FROM buckets b JOIN LATERAL (SELECT id, row_number() OVER (ORDER BY id) AS n FROM studies WHERE patient_id = b.patient_id) s
			ON s.n = 1 OR (s.n = 2 AND b.id % 3 = 0)`)
	labels := map[string]int64{}
	for name, pick := range map[string]func(i int) bool{
		"one":    func(i int) bool { return i == 5 },
		"few":    func(i int) bool { return i%7 == 1 },
		"half":   func(i int) bool { return i%2 == 0 },
		"second": func(i int) bool { return i%2 == 1 && i%3 == 0 }, // second studies: buckets with two studies
		"none":   func(int) bool { return false },
	} {
		l := &database.Label{DepartmentID: depts[0].ID, Name: name, Color: "#aa0000"}
		ins(l)
		labels[name] = l.ID
		for i, id := range studies[0] {
			if pick(i) {
				ins(&database.StudyLabel{StudyID: id, LabelID: l.ID, UserID: &users[0].ID})
				if i%4 == 0 { // also for a second user: the study has the label twice
					ins(&database.StudyLabel{StudyID: id, LabelID: l.ID, UserID: &users[1].ID})
				}
			}
		}
	}
	exec(`ANALYZE`)

	reference := func(f ListFilter) []int64 {
		q := db.NewSelect().TableExpr("buckets AS b").ColumnExpr("b.id").
			Where("b.department_id = ?", depts[0].ID).
			Where("b.id IN (SELECT bs.bucket_id FROM bucket_studies bs JOIN study_labels sl ON sl.study_id = bs.study_id WHERE sl.label_id = ?)", f.Label)
		switch f.State {
		case database.BucketBlocked:
			q = q.Where("b.state = 'blocked'")
		case database.BucketActive:
			q = q.Where("b.state = 'active' AND b.valid_until >= ?", now.Format(time.DateOnly))
		case database.BucketExpired:
			q = q.Where("b.state = 'active' AND b.valid_until < ?", now.Format(time.DateOnly))
		}
		if f.Patient != "" {
			q = q.Where("b.patient_id IN (SELECT id FROM patients WHERE family_name = ?)", f.Patient)
		}
		var ids []int64
		if err := q.OrderExpr("b.state = 'blocked' DESC, b.created_at DESC, b.id DESC").Scan(ctx, &ids); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	pages := func(f ListFilter, lim labelLimits) []int64 {
		var ids []int64
		for i := 0; i < 300; i++ {
			p, err := svc.listWith(ctx, users[0], f, nil, lim)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Rows {
				ids = append(ids, r.ID)
			}
			if p.Next == "" {
				return ids
			}
			f.After = p.Next
		}
		t.Fatal("pages do not end")
		return nil
	}
	plans := map[string]labelLimits{
		"listed": {cap: 10000, hashMax: 0},
		"hashed": {cap: 0, hashMax: 1e9},
		"probed": {cap: 0, hashMax: -1},
		"mixed":  {cap: 20, hashMax: 40},
	}
	nonEmpty := 0
	for name, label := range labels {
		for _, base := range []ListFilter{{}, {State: database.BucketBlocked}, {State: database.BucketActive}, {State: database.BucketExpired}, {Patient: "Müller"}} {
			f := base
			f.Label = label
			want := reference(f)
			if len(want) > 0 {
				nonEmpty++
			}
			for plan, lim := range plans {
				for _, size := range []int{3, 50} {
					g := f
					g.Limit = size
					if got := pages(g, lim); !slices.Equal(got, want) {
						t.Fatalf("label %s, %+v, %s, pages of %d:\n got %v\nwant %v", name, base, plan, size, got, want)
					}
				}
			}
		}
	}
	if nonEmpty < 12 {
		t.Fatalf("only %d cases have buckets: the data tests little", nonEmpty)
	}
	// Each threshold picks the plan it names.
	for plan, lim := range plans {
		if plan == "mixed" {
			continue
		}
		lp, err := svc.planLabel(ctx, labels["half"], lim, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := map[bool]string{true: "listed"}[lp.listed]; got == "" {
			got = map[bool]string{true: "hashed", false: "probed"}[lp.hashed]
			if got != plan {
				t.Errorf("%s thresholds planned %s", plan, got)
			}
		} else if got != plan {
			t.Errorf("%s thresholds planned %s", plan, got)
		}
	}
}
